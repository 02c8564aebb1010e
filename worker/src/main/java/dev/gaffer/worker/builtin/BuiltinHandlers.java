package dev.gaffer.worker.builtin;

import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.JobHandlerProvider;
import java.util.Map;

/** The diagnostic job types every worker has: {@code noop} and {@code sleep}. Found by ServiceLoader. */
public final class BuiltinHandlers implements JobHandlerProvider {

    @Override
    public Map<String, JobHandler> handlers() {
        return Map.of(NoopHandler.TYPE, new NoopHandler(), SleepHandler.TYPE, new SleepHandler());
    }
}
