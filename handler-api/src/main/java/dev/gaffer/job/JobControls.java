package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * The parameters that Gaffer itself reads, whatever the job type: today {@code timeout_ms}, how
 * long one run may take before it is interrupted and retried. They are checked when a job is
 * created (a client gets 422 naming the field) and again when a worker starts a run (a job
 * written past the API, by SQL or an older version, fails alone with the same message instead of
 * taking its claim batch with it).
 */
public final class JobControls {

    public static final String TIMEOUT_MS = "timeout_ms";

    /** The longest run a job may ask for; also keeps every deadline well inside a long of nanoseconds. */
    public static final Duration MAX_TIMEOUT = Duration.ofDays(30);

    private JobControls() {}

    /** Throws {@link InvalidJobException} naming the field when a control field is out of range. */
    public static void check(JsonNode parameters) {
        timeout(parameters);
    }

    /** {@code parameters.timeout_ms} as a duration, or null when the job does not set one. */
    public static Duration timeout(JsonNode parameters) {
        JsonNode t = parameters == null ? null : parameters.get(TIMEOUT_MS);
        if (t == null || t.isNull()) {
            return null;
        }
        if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() < 1 || t.asLong() > MAX_TIMEOUT.toMillis()) {
            throw new InvalidJobException(
                    "parameters." + TIMEOUT_MS,
                    "must be a whole number of milliseconds from 1 to " + MAX_TIMEOUT.toMillis() + " (30 days), got "
                            + t);
        }
        return Duration.ofMillis(t.asLong());
    }
}
