package dev.gaffer.worker.builtin;

import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.Outcome;

/** Job type {@code noop}: completes at once with no result. For smoke tests and benchmarks. */
public final class NoopHandler implements JobHandler {

    public static final String TYPE = "noop";

    @Override
    public Outcome handle(JobContext ctx) {
        return Outcome.complete(null);
    }
}
