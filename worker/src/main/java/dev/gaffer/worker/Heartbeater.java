package dev.gaffer.worker;

import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.LeaseStore.Beat;
import dev.gaffer.job.Results.HeartbeatResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every interval: one statement that extends the leases of all of this worker's running jobs by
 * its heartbeat timeout and writes their progress reported since the last beat, then one that
 * touches the worker's row. A job whose lease turned out to be gone has its handler interrupted
 * and its outcome discarded. A run that ignores the interruption at its timeout (its own timer,
 * in {@link JobRunner}) stops being beaten for, so that its lease runs out and another worker
 * takes the job.
 */
final class Heartbeater {

    /** What one beat did. */
    record Beaten(int beats, Set<Long> lost) {}

    private static final Logger log = LoggerFactory.getLogger(Heartbeater.class);

    private final String workerId;
    private final LeaseStore leases;
    private final WorkerStore workerStore;
    private final WorkerStore.Registration registration;
    private final Map<Long, RunningJob> running;
    private final Duration interval;
    private final Duration leaseTimeout;
    private final WorkerStats stats;
    private final Lock leaseWrites;
    private final Thread thread;
    private volatile boolean stopped;

    Heartbeater(
            String workerId,
            LeaseStore leases,
            WorkerStore workerStore,
            WorkerStore.Registration registration,
            Map<Long, RunningJob> running,
            Duration interval,
            Duration leaseTimeout,
            WorkerStats stats,
            Lock leaseWrites) {
        this.workerId = workerId;
        this.leases = leases;
        this.workerStore = workerStore;
        this.registration = registration;
        this.running = running;
        this.interval = interval;
        this.leaseTimeout = leaseTimeout;
        this.stats = stats;
        this.leaseWrites = leaseWrites;
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("gaffer-heartbeat-" + workerId)
                .unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    Beaten runOnce() {
        long now = System.nanoTime();
        List<RunningJob> holding = new ArrayList<>();
        for (RunningJob rj : running.values()) {
            // Each run's own timer interrupts it at its timeout (JobRunner); here a run that
            // ignores that interruption stops being beaten for.
            RunningJob.State s = rj.state();
            if (s == RunningJob.State.TIMED_OUT && now - rj.deadlineNanos > leaseTimeout.toNanos()) {
                // The handler ignores its interruption. Stop extending its lease: the reclaimer
                // gives the job to another worker, and this thread's late write will be fenced.
                if (rj.stop(RunningJob.State.LOST)) {
                    stats.leasesLost.incrementAndGet();
                    log.error(
                            "job {} ignored its interruption for {} ms after its timeout; letting its lease lapse",
                            rj.id(),
                            leaseTimeout.toMillis());
                }
                continue;
            }
            if (s == RunningJob.State.QUEUED
                    || s == RunningJob.State.RUNNING
                    || s == RunningJob.State.TIMED_OUT
                    || s == RunningJob.State.FINISHING) {
                holding.add(rj);
            }
        }
        Set<Long> lost = Set.of();
        if (!holding.isEmpty()) {
            List<Beat> beats = new ArrayList<>(holding.size());
            for (RunningJob rj : holding) {
                beats.add(rj.drainBeat());
            }
            HeartbeatResult result;
            // A completion batch of this worker also updates many of its rows: never both at once.
            leaseWrites.lock();
            try {
                result = leases.heartbeat(workerId, beats, leaseTimeout);
            } catch (RuntimeException e) {
                for (int i = 0; i < holding.size(); i++) {
                    holding.get(i).restore(beats.get(i));
                }
                throw e;
            } finally {
                leaseWrites.unlock();
            }
            lost = result.lost();
            interruptLost(holding, lost, result.cancelled());
        }
        if (!workerStore.touch(workerId, running.size())) {
            // Maintenance expired our row while we were stalled (long GC, paused VM): come back.
            workerStore.register(registration, running.size());
        }
        stats.heartbeats.incrementAndGet();
        return new Beaten(holding.size(), lost);
    }

    private void interruptLost(Collection<RunningJob> holding, Set<Long> lost, Set<Long> cancelled) {
        for (RunningJob rj : holding) {
            // A job that is FINISHING may have just completed; its own fenced write tells it.
            if (lost.contains(rj.id()) && rj.stop(RunningJob.State.LOST)) {
                stats.leasesLost.incrementAndGet();
                if (cancelled.contains(rj.id())) {
                    // A person's decision (or its parent's failure), not a fault.
                    log.info(
                            "job {} (attempt {}) was cancelled; interrupting its handler", rj.id(), rj.lease.attempt());
                } else {
                    log.warn(
                            "lost the lease of job {} (attempt {}): it was reclaimed; interrupting its handler",
                            rj.id(),
                            rj.lease.attempt());
                }
            }
        }
    }

    private void run() {
        while (!stopped) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                continue;
            }
            if (stopped) {
                break;
            }
            try {
                runOnce();
            } catch (RuntimeException e) {
                log.error("heartbeat of {} failed; trying again in {} ms", workerId, interval.toMillis(), e);
            }
        }
    }

    /** Stops beating. The leases of jobs still running then go stale and are reclaimed. */
    void stop() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
