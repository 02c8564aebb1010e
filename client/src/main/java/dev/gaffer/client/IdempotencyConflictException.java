package dev.gaffer.client;

/**
 * An idempotency key that was already used for a job with another type or other parameters:
 * nothing was created. Over REST the API answers this with 422 naming {@code Idempotency-Key}.
 */
public final class IdempotencyConflictException extends IllegalStateException {

    private final String key;
    private final long existingJobId;

    public IdempotencyConflictException(String key, long existingJobId) {
        super("the idempotency key '" + key + "' was already used for job " + existingJobId
                + " with another type or other parameters");
        this.key = key;
        this.existingJobId = existingJobId;
    }

    public String key() {
        return key;
    }

    public long existingJobId() {
        return existingJobId;
    }
}
