package dev.gaffer.worker.maintenance;

import dev.gaffer.db.WorkerStore;
import java.time.Duration;

/**
 * Deletes workers rows not seen for longer than the expiry: processes that died without
 * deregistering. Their jobs are the reclaimer's business (by heartbeat, not by this row).
 */
public final class WorkerExpiry {

    public record Config(Duration expiry) {
        public Config {
            if (expiry.isNegative() || expiry.isZero()) {
                throw new IllegalArgumentException("worker expiry must be positive, got " + expiry);
            }
        }
    }

    private final WorkerStore workerStore;
    private final Config config;

    public WorkerExpiry(WorkerStore workerStore, Config config) {
        this.workerStore = workerStore;
        this.config = config;
    }

    public int runOnce() {
        return workerStore.expire(config.expiry());
    }
}
