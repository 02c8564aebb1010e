package dev.gaffer.worker;

import dev.gaffer.job.ClaimPosition;
import dev.gaffer.job.Job;
import dev.gaffer.job.LeaseStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims as many jobs as there are free slots, in one statement, hands them to the runner, and
 * sleeps until a wake-up or the poll interval. With per-queue limits, the limited queues are
 * claimed one statement each (bounded by their own free slots) and the others together.
 *
 * <p>Each queue's claim resumes after the last job this loop claimed there (a {@link
 * ClaimPosition}) instead of scanning from the head of the queue, past the dead index entries of
 * everything claimed since the last vacuum. It claims from the head again when it may have missed
 * a job that sorts before the position: after a hint for the queue (a job approved, retried,
 * reclaimed...; counted from the start of the last head scan, so a hint that arrives during a claim
 * is not lost), after a claim that came back short, and at least once per poll interval (jobs
 * whose run_at passed, or rows another worker locked and let go).
 */
final class ClaimLoop {

    /** What one iteration did: slots asked for and jobs claimed. */
    record Claimed(int requested, int claimed) {}

    /** Where the claims of one queue stand. Only the hint count is touched by other threads. */
    private static final class Cursor {
        final AtomicLong hints = new AtomicLong();
        long hintsAtHeadScan = -1;
        long headScanAt;
        ClaimPosition position;
    }

    private static final Logger log = LoggerFactory.getLogger(ClaimLoop.class);
    private static final Duration ERROR_PAUSE = Duration.ofSeconds(1);

    private final String workerId;
    private final List<String> queues;
    private final LeaseStore leases;
    private final Capacity capacity;
    private final Wakeup wakeup;
    private final Duration pollInterval;
    private final Duration lease;
    private final Supplier<Collection<Long>> exclude;
    private final Supplier<Collection<String>> types;
    private final Consumer<Job> runner;
    private final WorkerStats stats;
    private final Thread thread;
    private final Map<String, Cursor> cursors = new LinkedHashMap<>();
    private volatile boolean stopped;

    ClaimLoop(
            String workerId,
            List<String> queues,
            LeaseStore leases,
            Capacity capacity,
            Wakeup wakeup,
            Duration pollInterval,
            Duration lease,
            Supplier<Collection<Long>> exclude,
            Supplier<Collection<String>> types,
            Consumer<Job> runner,
            WorkerStats stats) {
        this.workerId = workerId;
        this.queues = List.copyOf(queues);
        this.leases = leases;
        this.capacity = capacity;
        this.wakeup = wakeup;
        this.pollInterval = pollInterval;
        this.lease = lease;
        this.exclude = exclude;
        this.types = types;
        this.runner = runner;
        this.stats = stats;
        this.thread = Thread.ofPlatform().name("gaffer-claim-" + workerId).unstarted(this::run);
        for (String q : this.queues) {
            cursors.put(q, new Cursor());
        }
    }

    /**
     * A job of {@code queue} (null: of any queue) may have become claimable ahead of where the
     * claims stand: the next claim there starts at the head. Any thread.
     */
    void hint(String queue) {
        if (queue == null) {
            cursors.values().forEach(c -> c.hints.incrementAndGet());
        } else {
            Cursor c = cursors.get(queue);
            if (c != null) {
                c.hints.incrementAndGet();
            }
        }
    }

    void start() {
        thread.start();
    }

    /** Claims for the free slots and starts the claimed jobs. */
    Claimed runOnce() {
        int requested = 0;
        int claimed = 0;
        List<String> unlimited = new ArrayList<>();
        for (String q : queues) {
            if (!capacity.limited(q)) {
                unlimited.add(q);
                continue;
            }
            int free = capacity.free(q);
            requested += free;
            claimed += claim(List.of(q), free);
        }
        if (!unlimited.isEmpty()) {
            int free = capacity.free();
            requested += free;
            claimed += claim(unlimited, free);
        }
        return new Claimed(requested, claimed);
    }

    private int claim(List<String> fromQueues, int limit) {
        if (limit <= 0 || stopped) {
            return 0;
        }
        long now = System.nanoTime();
        List<ClaimPosition> after = new ArrayList<>(fromQueues.size());
        for (String q : fromQueues) {
            Cursor c = cursors.get(q);
            long hints = c.hints.get();
            if (c.position == null || hints != c.hintsAtHeadScan || now - c.headScanAt >= pollInterval.toNanos()) {
                c.position = null;
                c.hintsAtHeadScan = hints;
                c.headScanAt = now;
            }
            after.add(c.position);
        }
        stats.claimStatements.incrementAndGet();
        List<Job> jobs = leases.claim(workerId, fromQueues, after, types.get(), limit, exclude.get(), lease);
        stats.claimed.addAndGet(jobs.size());
        if (jobs.size() < limit) {
            // Short: what is left may lie before the positions. Look from the head next time.
            fromQueues.forEach(q -> cursors.get(q).position = null);
        } else {
            // Jobs come back in claim order: the last of each queue is where it continues.
            for (Job job : jobs) {
                cursors.get(job.queue()).position = ClaimPosition.of(job);
            }
        }
        for (Job job : jobs) {
            start(job);
        }
        return jobs.size();
    }

    /**
     * Hands one claimed job to the runner. Whatever goes wrong with one job stays with that job:
     * a job that could not be started is given back at once (without using its attempt) rather
     * than left to the reclaimer, and the rest of the batch starts as if nothing happened.
     */
    private void start(Job job) {
        try {
            runner.accept(job);
        } catch (RuntimeException e) {
            log.error("job {} was claimed but could not be started; giving it back", job.id(), e);
            try {
                leases.release(workerId, List.of(job.lease()));
            } catch (RuntimeException releaseFailed) {
                log.error("job {} could not be given back either; it will be reclaimed", job.id(), releaseFailed);
            }
        }
    }

    private void run() {
        while (!stopped) {
            try {
                Claimed c = runOnce();
                if (c.claimed() > 0 && c.claimed() == c.requested()) {
                    // Every free slot got a job: more may be waiting. Claim again as soon as a
                    // slot frees (the finished handler signals), without waiting for a hint.
                    continue;
                }
                wakeup.await(pollInterval);
            } catch (InterruptedException e) {
                if (!stopped) {
                    log.warn("claim loop of {} interrupted; continuing", workerId);
                }
            } catch (RuntimeException e) {
                // Database down, pool exhausted, a bug in a query: log it and keep trying.
                log.error("claim loop of {} failed; retrying in {} ms", workerId, ERROR_PAUSE.toMillis(), e);
                pause();
            }
        }
    }

    private void pause() {
        try {
            Thread.sleep(ERROR_PAUSE);
        } catch (InterruptedException e) {
            // stopping, or woken: either way, go round again
        }
    }

    /** Stops claiming; returns once no claim is in flight. */
    void stop() {
        stopped = true;
        wakeup.signal();
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
