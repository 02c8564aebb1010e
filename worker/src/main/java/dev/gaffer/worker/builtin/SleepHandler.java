package dev.gaffer.worker.builtin;

import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.Json;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.Outcome;

/**
 * Job type {@code sleep}, parameters {@code {"ms": N}}: sleeps N milliseconds in steps, reporting
 * progress after each, and stops at once when cancelled (its thread is interrupted). Result:
 * {@code {"slept_ms": N}}.
 */
public final class SleepHandler implements JobHandler {

    public static final String TYPE = "sleep";
    private static final int STEPS = 20;

    @Override
    public Outcome handle(JobContext ctx) throws InterruptedException {
        long total;
        try {
            total = SleepParameters.ms(ctx.parameters());
        } catch (InvalidJobException e) {
            return Outcome.fail(e.getMessage());
        }
        long step = Math.max(1, total / STEPS);
        long slept = 0;
        ctx.progress(0, "sleeping");
        while (slept < total) {
            long next = Math.min(step, total - slept);
            Thread.sleep(next); // throws InterruptedException when cancelled
            slept += next;
            ctx.progress((int) (100 * slept / Math.max(1, total)), "sleeping");
        }
        return Outcome.complete(Json.MAPPER.createObjectNode().put("slept_ms", total));
    }
}
