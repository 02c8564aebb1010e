package dev.gaffer.worker.maintenance;

import dev.gaffer.job.ReclaimStore;
import java.time.Duration;

/** Deletes finished top-level jobs (with their sub-jobs and events) older than the retention. */
public final class Pruner {

    public record Config(Duration retention, int batchSize, int maxBatches) {
        public static final int DEFAULT_BATCH_SIZE = 1000;
        public static final int DEFAULT_MAX_BATCHES = 50;

        public Config {
            if (retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("retention must be positive, got " + retention);
            }
            if (batchSize < 1 || maxBatches < 1) {
                throw new IllegalArgumentException("batch size and batches must be positive");
            }
        }

        public static Config of(Duration retention) {
            return new Config(retention, DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCHES);
        }
    }

    private final ReclaimStore reclaims;
    private final Config config;

    public Pruner(ReclaimStore reclaims, Config config) {
        this.reclaims = reclaims;
        this.config = config;
    }

    /** Deletes in short batches, at most maxBatches per run; returns how many top-level jobs went. */
    public int runOnce() {
        int deleted = 0;
        for (int i = 0; i < config.maxBatches(); i++) {
            int n = reclaims.pruneFinished(config.retention(), config.batchSize());
            deleted += n;
            if (n < config.batchSize()) {
                break;
            }
        }
        return deleted;
    }
}
