package dev.gaffer.worker.maintenance;

import dev.gaffer.job.JobStore;
import dev.gaffer.job.Results.ReclaimResult;
import java.time.Duration;

/**
 * Returns processing jobs whose heartbeat is older than the timeout to approved (or to failed
 * when their attempts are used up). Their old holders are fenced off from then on.
 */
public final class Reclaimer {

    public record Config(Duration heartbeatTimeout, int batchSize, int maxBatches) {
        public static final int DEFAULT_BATCH_SIZE = 1000;
        public static final int DEFAULT_MAX_BATCHES = 20;

        public Config {
            if (heartbeatTimeout.isNegative() || heartbeatTimeout.isZero()) {
                throw new IllegalArgumentException("heartbeat timeout must be positive, got " + heartbeatTimeout);
            }
            if (batchSize < 1 || maxBatches < 1) {
                throw new IllegalArgumentException("batch size and batches must be positive");
            }
        }

        public static Config of(Duration heartbeatTimeout) {
            return new Config(heartbeatTimeout, DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCHES);
        }
    }

    private final JobStore jobStore;
    private final Config config;

    public Reclaimer(JobStore jobStore, Config config) {
        this.jobStore = jobStore;
        this.config = config;
    }

    /** Reclaims every stale job (in batches, each its own short statement); returns the counts. */
    public ReclaimResult runOnce() {
        int requeued = 0;
        int failed = 0;
        for (int i = 0; i < config.maxBatches(); i++) {
            ReclaimResult r = jobStore.reclaimStale(config.heartbeatTimeout(), config.batchSize());
            requeued += r.requeued();
            failed += r.failed();
            if (r.total() < config.batchSize()) {
                break;
            }
        }
        return new ReclaimResult(requeued, failed);
    }
}
