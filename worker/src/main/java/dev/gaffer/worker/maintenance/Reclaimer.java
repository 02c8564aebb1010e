package dev.gaffer.worker.maintenance;

import dev.gaffer.job.ReclaimStore;
import dev.gaffer.job.Results.ReclaimResult;

/**
 * Returns processing jobs whose lease has ended to approved (or to failed when their attempts are
 * used up). Each lease's end was written by its holder with the holder's own heartbeat timeout, so
 * the reclaimer needs no timeout of its own: workers configured differently never take each
 * other's healthy jobs. The old holders are fenced off from then on.
 */
public final class Reclaimer {

    public record Config(int batchSize, int maxBatches) {
        public static final int DEFAULT_BATCH_SIZE = 1000;
        public static final int DEFAULT_MAX_BATCHES = 20;
        public static final Config DEFAULTS = new Config(DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCHES);

        public Config {
            if (batchSize < 1 || maxBatches < 1) {
                throw new IllegalArgumentException("batch size and batches must be positive");
            }
        }
    }

    private final ReclaimStore reclaims;
    private final Config config;

    public Reclaimer(ReclaimStore reclaims, Config config) {
        this.reclaims = reclaims;
        this.config = config;
    }

    /** Reclaims every expired lease (in batches, each its own short statement); returns the counts. */
    public ReclaimResult runOnce() {
        int requeued = 0;
        int failed = 0;
        for (int i = 0; i < config.maxBatches(); i++) {
            ReclaimResult r = reclaims.reclaimExpired(config.batchSize());
            requeued += r.requeued();
            failed += r.failed();
            if (r.total() < config.batchSize()) {
                break;
            }
        }
        return new ReclaimResult(requeued, failed);
    }
}
