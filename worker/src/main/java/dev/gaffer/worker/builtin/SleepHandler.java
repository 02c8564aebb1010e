package dev.gaffer.worker.builtin;

import com.fasterxml.jackson.databind.JsonNode;
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
    public static final long MAX_MS = 24L * 3600 * 1000;
    private static final int STEPS = 20;

    @Override
    public Outcome handle(JobContext ctx) throws InterruptedException {
        JsonNode ms = ctx.parameters().get("ms");
        if (ms == null || !ms.canConvertToLong() || ms.asLong() < 0 || ms.asLong() > MAX_MS) {
            return Outcome.fail(
                    "parameters.ms must be a whole number of milliseconds from 0 to " + MAX_MS + ", got " + ms);
        }
        long total = ms.asLong();
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
