package dev.gaffer.worker;

import dev.gaffer.db.WorkerStore;
import dev.gaffer.db.WorkerStore.Predecessor;
import dev.gaffer.job.ReclaimStore;
import dev.gaffer.job.Results.ReclaimResult;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a worker does when it starts under a name that earlier processes used: it frees the jobs of
 * those that are really gone, at once, instead of leaving them to the reclaimer. A predecessor is
 * gone when it has not been seen for longer than its own heartbeat timeout, or when it ran on this
 * host and no process with its pid is alive here. Anything else may be a second live worker that
 * was given the same name: its jobs are left alone (their leases still protect them), and the new
 * worker runs beside it under its own id, with a warning.
 *
 * <p>A predecessor on this host with this process's own pid is not taken for dead: two containers
 * of one pod share a host name, and both may be pid 1 in their own pid namespaces. If it was this
 * process's earlier life, its leases run out and the reclaimer frees its jobs within its timeout.
 */
final class StartupRecovery {

    /** What one run found: the predecessors it took for gone (and freed), and those it left alone. */
    record Recovered(List<String> gone, List<Predecessor> alive, ReclaimResult jobs) {}

    private static final Logger log = LoggerFactory.getLogger(StartupRecovery.class);
    static final int LIMIT = 100_000;

    private final WorkerStore workerStore;
    private final ReclaimStore reclaims;
    private final WorkerStore.Registration self;
    private final LongPredicate processAlive;

    StartupRecovery(WorkerStore workerStore, ReclaimStore reclaims, WorkerStore.Registration self) {
        this(workerStore, reclaims, self, StartupRecovery::processAlive);
    }

    StartupRecovery(
            WorkerStore workerStore, ReclaimStore reclaims, WorkerStore.Registration self, LongPredicate processAlive) {
        this.workerStore = workerStore;
        this.reclaims = reclaims;
        this.self = self;
        this.processAlive = processAlive;
    }

    Recovered runOnce() {
        List<String> gone = new ArrayList<>();
        List<Predecessor> alive = new ArrayList<>();
        for (Predecessor p : workerStore.predecessors(self.name(), self.id())) {
            if (isGone(p)) {
                gone.add(p.id());
            } else {
                alive.add(p);
            }
        }
        ReclaimResult jobs = reclaims.recoverPredecessors(gone, LIMIT);
        workerStore.forget(gone);
        if (!gone.isEmpty()) {
            log.info(
                    "startup recovery for name {}: freed {} job(s) of {} earlier process(es) that are gone: {}",
                    self.name(),
                    jobs.total(),
                    gone.size(),
                    gone);
        }
        for (Predecessor p : alive) {
            log.warn(
                    "another worker named {} may still be running ({} on host {}, pid {}, last seen {}): its jobs"
                            + " are left alone and this process runs as {}. Give every worker process its own"
                            + " GAFFER_WORKER_NAME (the default, <host>-<pid>, is unique per process).",
                    self.name(),
                    p.id(),
                    p.host(),
                    p.pid(),
                    p.lastSeenAt(),
                    self.id());
        }
        return new Recovered(List.copyOf(gone), List.copyOf(alive), jobs);
    }

    private boolean isGone(Predecessor p) {
        if (p.silent()) {
            return true;
        }
        return p.host().equals(self.host()) && p.pid() != self.pid() && !processAlive.test(p.pid());
    }

    private static boolean processAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
