package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A job to create. The checks here repeat the table's CHECK constraints so that bad input gets a
 * message naming the field before it reaches the database; the database still has the last word.
 */
public record NewJob(
        String type,
        String queue,
        int priority,
        JsonNode parameters,
        JsonNode storyboard,
        int maxAttempts,
        Instant runAt,
        String idempotencyKey,
        String createdBy) {

    public static final String DEFAULT_QUEUE = "default";
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final int MIN_PRIORITY = -100;
    public static final int MAX_PRIORITY = 100;
    public static final int MAX_ATTEMPTS_LIMIT = 1000;
    public static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    /** What a job type, a queue or a review gate looks like (the CHECKs and domains of the schema). */
    public static final Pattern NAME = Pattern.compile("^[a-z][a-z0-9_.-]{0,62}$");

    /**
     * The range of {@code run_at}: PostgreSQL's timestamptz goes further, but the JDBC driver
     * turns instants before year -4712 into -infinity, and a job to run before 1970 or after 9999
     * is a typo, not a schedule.
     */
    public static final Instant EARLIEST_RUN_AT = Instant.parse("1970-01-01T00:00:00Z");

    public static final Instant LATEST_RUN_AT = Instant.parse("9999-12-31T23:59:59Z");

    public NewJob {
        requireName("type", type);
        queue = queue == null ? DEFAULT_QUEUE : queue;
        requireName("queue", queue);
        if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
            throw new InvalidJobException("priority", "must be a whole number from -100 to 100, got " + priority);
        }
        parameters = parameters == null ? JsonNodeFactory.instance.objectNode() : parameters;
        if (!parameters.isObject()) {
            throw new InvalidJobException("parameters", "must be a JSON object");
        }
        parameters = JsonLimits.checked("parameters", parameters);
        JobControls.check(parameters);
        if (storyboard != null && storyboard.isNull()) {
            storyboard = null;
        }
        storyboard = JsonLimits.checked("storyboard", storyboard);
        if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
            throw new InvalidJobException("max_attempts", "must be a whole number from 1 to 1000, got " + maxAttempts);
        }
        if (runAt != null && (runAt.isBefore(EARLIEST_RUN_AT) || runAt.isAfter(LATEST_RUN_AT))) {
            throw new InvalidJobException(
                    "run_at", "must be between " + EARLIEST_RUN_AT + " and " + LATEST_RUN_AT + ", got " + runAt);
        }
        if (idempotencyKey != null
                && (idempotencyKey.isBlank()
                        || idempotencyKey.length() > MAX_IDEMPOTENCY_KEY_LENGTH
                        || idempotencyKey.indexOf('\u0000') >= 0)) {
            throw new InvalidJobException("idempotency_key", "must be 1 to 255 characters, without NUL");
        }
        if (createdBy != null && createdBy.indexOf('\u0000') >= 0) {
            throw new InvalidJobException("created_by", "must not contain NUL");
        }
    }

    public static NewJob of(String type, JsonNode parameters) {
        return new NewJob(type, null, 0, parameters, null, DEFAULT_MAX_ATTEMPTS, null, null, null);
    }

    public NewJob withQueue(String q) {
        return new NewJob(type, q, priority, parameters, storyboard, maxAttempts, runAt, idempotencyKey, createdBy);
    }

    public NewJob withPriority(int p) {
        return new NewJob(type, queue, p, parameters, storyboard, maxAttempts, runAt, idempotencyKey, createdBy);
    }

    public NewJob withStoryboard(JsonNode s) {
        return new NewJob(type, queue, priority, parameters, s, maxAttempts, runAt, idempotencyKey, createdBy);
    }

    public NewJob withMaxAttempts(int m) {
        return new NewJob(type, queue, priority, parameters, storyboard, m, runAt, idempotencyKey, createdBy);
    }

    public NewJob withRunAt(Instant t) {
        return new NewJob(type, queue, priority, parameters, storyboard, maxAttempts, t, idempotencyKey, createdBy);
    }

    public NewJob withIdempotencyKey(String k) {
        return new NewJob(type, queue, priority, parameters, storyboard, maxAttempts, runAt, k, createdBy);
    }

    public NewJob withCreatedBy(String c) {
        return new NewJob(type, queue, priority, parameters, storyboard, maxAttempts, runAt, idempotencyKey, c);
    }

    static void requireName(String field, String value) {
        Objects.requireNonNull(field);
        if (value == null || !NAME.matcher(value).matches()) {
            throw new InvalidJobException(
                    field,
                    "must start with a lower-case letter and contain only a-z, 0-9, '_', '.', '-' (at most 63 characters)");
        }
    }
}
