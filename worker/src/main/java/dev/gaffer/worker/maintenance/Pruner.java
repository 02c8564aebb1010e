package dev.gaffer.worker.maintenance;

import dev.gaffer.job.ReclaimStore;
import dev.gaffer.job.ReviewTrail;
import java.time.Duration;

/**
 * Deletes finished top-level jobs (with their sub-jobs and events) older than the retention, and
 * review decisions (the audit trail, job_reviews) older than the audit retention, which is kept
 * apart and longer: a decision outlives its job.
 */
public final class Pruner {

    public record Config(Duration retention, Duration auditRetention, int batchSize, int maxBatches) {
        public static final int DEFAULT_BATCH_SIZE = 1000;
        public static final int DEFAULT_MAX_BATCHES = 50;

        public Config {
            if (retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("retention must be positive, got " + retention);
            }
            if (auditRetention.compareTo(ReviewTrail.MIN_RETENTION) < 0) {
                throw new IllegalArgumentException("the audit retention must be at least "
                        + ReviewTrail.MIN_RETENTION.toDays() + " days, got " + auditRetention);
            }
            if (batchSize < 1 || maxBatches < 1) {
                throw new IllegalArgumentException("batch size and batches must be positive");
            }
        }

        public static Config of(Duration retention, Duration auditRetention) {
            return new Config(retention, auditRetention, DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCHES);
        }
    }

    private final ReclaimStore reclaims;
    private final ReviewTrail reviews;
    private final Config config;

    public Pruner(ReclaimStore reclaims, ReviewTrail reviews, Config config) {
        this.reclaims = reclaims;
        this.reviews = reviews;
        this.config = config;
    }

    /**
     * Deletes in short batches, at most maxBatches per run of each kind: finished jobs, then
     * decisions past the audit retention; then cancels the pending jobs whose review expired
     * (review_policies). Returns how many top-level jobs were deleted.
     */
    public int runOnce() {
        int deleted = inBatches(size -> reclaims.pruneFinished(config.retention(), size));
        pruneReviews();
        expireReviews();
        return deleted;
    }

    /** Decisions older than the audit retention, in batches as for jobs; returns how many went. */
    public int pruneReviews() {
        return inBatches(size -> reviews.prune(config.auditRetention(), size));
    }

    /** Pending jobs that waited for a decision longer than their review policy allows: cancelled; returns how many. */
    public int expireReviews() {
        return inBatches(reviews::expire);
    }

    /** Runs {@code batch} (deleting up to its argument, returning how many) until one falls short, at most maxBatches times. */
    private int inBatches(java.util.function.IntUnaryOperator batch) {
        int deleted = 0;
        for (int i = 0; i < config.maxBatches(); i++) {
            int n = batch.applyAsInt(config.batchSize());
            deleted += n;
            if (n < config.batchSize()) {
                break;
            }
        }
        return deleted;
    }
}
