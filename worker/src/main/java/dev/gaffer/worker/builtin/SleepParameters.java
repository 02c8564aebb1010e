package dev.gaffer.worker.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobTypeValidator;
import java.util.Set;

/** The parameters of job type {@code sleep}: {@code {"ms": N}}, N from 0 to 24 hours. Checked by the API and the handler. */
public final class SleepParameters implements JobTypeValidator {

    public static final long MAX_MS = 24L * 3600 * 1000;

    @Override
    public Set<String> types() {
        return Set.of(SleepHandler.TYPE);
    }

    @Override
    public void validate(String type, JsonNode parameters, JsonNode storyboard) {
        ms(parameters);
    }

    /** {@code parameters.ms}, or an {@link InvalidJobException} naming it. */
    static long ms(JsonNode parameters) {
        JsonNode ms = parameters == null ? null : parameters.get("ms");
        boolean whole = ms != null
                && ms.isNumber()
                && (ms.isIntegralNumber() || ms.doubleValue() == Math.rint(ms.doubleValue()));
        if (!whole || !ms.canConvertToLong() || ms.asLong() < 0 || ms.asLong() > MAX_MS) {
            throw new InvalidJobException(
                    "parameters.ms", "must be a whole number of milliseconds from 0 to " + MAX_MS + ", got " + ms);
        }
        return ms.asLong();
    }
}
