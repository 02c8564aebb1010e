package dev.gaffer.worker;

import dev.gaffer.job.ClaimPosition;
import dev.gaffer.job.Job;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.OutcomeStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's rounds. Each round is one statement and one commit: it writes the completions that
 * queued since the previous round ({@link Completer}) and claims jobs for the free slots plus a
 * bounded prefetch (jobs claimed ahead, which wait in the runner for a slot while their leases are
 * beaten for, so that a finished handler's slot is filled at once instead of after a round trip).
 * The loop then sleeps until a wake-up (a hint, a finished handler) or the poll interval. With
 * per-queue limits, the limited queues are claimed one statement each (bounded by their own free
 * slots, no prefetch) and the others together with the completions.
 *
 * <p>Found with the burn-down benchmark (docs/benchmarks.md, issue 16): a claim statement and a
 * completion statement per round, each with its commit, and claims no larger than the slots that
 * had just come free, were where a no-op job's time went.
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
    private final Completer completer;
    private final IntSupplier prefetch;
    private final IntSupplier queued;
    private final Runnable releaseQueued;
    private final IntSupplier releaseStalled;
    private final Thread thread;
    private final Map<String, Cursor> cursors = new LinkedHashMap<>();
    private final CountDownLatch claimsStopped = new CountDownLatch(1);
    private volatile boolean claiming = true;
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
        this(
                workerId,
                queues,
                leases,
                capacity,
                wakeup,
                pollInterval,
                lease,
                exclude,
                types,
                runner,
                stats,
                null,
                () -> 0,
                () -> 0,
                () -> {},
                null);
    }

    /**
     * The loop of a worker: {@code completer}'s queue is written with each round's claim (null:
     * claims only); {@code prefetch} is how many jobs may be claimed beyond the free slots now,
     * {@code queued} how many claimed jobs wait for a slot, and {@code releaseQueued} gives those
     * back once claiming stops.
     */
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
            WorkerStats stats,
            Completer completer,
            IntSupplier prefetch,
            IntSupplier queued,
            Runnable releaseQueued,
            IntSupplier releaseStalled) {
        this.releaseStalled = releaseStalled;
        this.completer = completer;
        this.prefetch = prefetch;
        this.queued = queued;
        this.releaseQueued = releaseQueued;
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

    /**
     * The pickup of one job that a hint announced, on the LISTEN connection that brought it
     * ({@link LeaseStore#pickUp}), for a worker with nothing to do (no handler running, so every
     * slot free; no job claimed ahead), in the job's queue only, one without a limit of its own. Returns true when
     * the job was claimed and started here; false when the claim loop should look as usual (the
     * worker is busy, the job went to another worker or is not due yet, the statement failed).
     * The listener's thread.
     *
     * <p>From approval to handler, a hint otherwise wakes this loop's thread and then its
     * connection's backend, each from idle, before the claim even starts; on this benchmark
     * machine every such wake-up is a measurable part of the pickup (docs/benchmarks.md,
     * ping-pong). A busy worker does not pick up: its claims go in batches through this loop, and
     * with no handler running here, no earlier attempt of the job can be running here either.
     */
    boolean pickUp(long jobId, String queue, java.sql.Connection connection) {
        synchronized (pickUpLock) {
            return pickUpLocked(jobId, queue, connection);
        }
    }

    // Held by a pickup from its check to its start, and taken once by stopClaiming, so that no
    // pickup starts a job after claims stopped.
    private final Object pickUpLock = new Object();

    private boolean pickUpLocked(long jobId, String queue, java.sql.Connection connection) {
        if (!claiming
                || stopped
                || !cursors.containsKey(queue)
                || capacity.limited(queue)
                || capacity.busy() > 0
                || queued.getAsInt() > 0) {
            return false;
        }
        java.util.Optional<Job> job;
        try {
            job = leases.pickUp(connection, workerId, jobId, List.of(queue), types.get(), lease);
        } catch (java.sql.SQLException | RuntimeException e) {
            log.warn("pickup of job {} failed ({}); the claim loop looks instead", jobId, e.toString());
            return false;
        }
        if (job.isEmpty()) {
            return false;
        }
        stats.claimed.incrementAndGet();
        stats.pickedUp.incrementAndGet();
        start(job.get());
        return true;
    }

    void start() {
        if (completer != null) {
            completer.writtenByRounds(wakeup::signal);
        }
        thread.start();
    }

    /**
     * One round: the sub-jobs' completions (each with its fan-in), the limited queues' claims,
     * then the other queues' claim for the free slots and the prefetch together with the
     * top-level completions, and starts the claimed jobs.
     */
    Claimed runOnce() {
        if (completer != null) {
            completer.writeSubJobs();
        }
        int requested = 0;
        int claimed = 0;
        List<String> unlimited = new ArrayList<>();
        for (String q : queues) {
            if (!capacity.limited(q)) {
                unlimited.add(q);
                continue;
            }
            int free = claiming ? capacity.free(q) : 0;
            requested += free;
            claimed += claim(List.of(q), free, List.of());
        }
        if (claiming && releaseStalled != null) {
            releaseStalled.getAsInt();
        }
        int ahead = prefetch.getAsInt();
        int waiting = queued.getAsInt();
        int want = claiming && !unlimited.isEmpty() ? Math.max(0, capacity.free() + ahead - waiting) : 0;
        if (ahead > 0 && waiting > ahead / 2) {
            // Jobs claimed ahead are refilled once half of them have started, so that each claim
            // is a batch (a round's statement costs about the same for 50 jobs as for 250).
            want = 0;
        }
        List<Completer.Request> completions = completer == null || (want == 0 && !completer.due(idle(waiting)))
                ? List.of()
                : completer.takeTopLevel();
        requested += want;
        claimed += claim(unlimited, want, completions);
        return new Claimed(requested, claimed);
    }

    private int claim(List<String> fromQueues, int limit, List<Completer.Request> completions) {
        if (completions.isEmpty() && (limit <= 0 || !claiming)) {
            return 0;
        }
        if (!claiming) {
            limit = 0;
        }
        if (limit == 0) {
            // Completions only: the claim positions stay as they are.
            long t0 = System.nanoTime();
            write(List.of(), List.of(), 0, completions);
            stats.roundStatementNanos.addAndGet(System.nanoTime() - t0);
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
        long t0 = System.nanoTime();
        List<Job> jobs = write(fromQueues, after, limit, completions);
        long t1 = System.nanoTime();
        stats.roundStatementNanos.addAndGet(t1 - t0);
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
        stats.roundStartNanos.addAndGet(System.nanoTime() - t1);
        return jobs.size();
    }

    /** One statement: the claim alone, or the claim with the completions; the completions are answered. */
    private List<Job> write(
            List<String> fromQueues, List<ClaimPosition> after, int limit, List<Completer.Request> completions) {
        stats.claimStatements.incrementAndGet();
        List<Job> jobs;
        if (completions.isEmpty()) {
            jobs = leases.claim(workerId, fromQueues, after, types.get(), limit, exclude.get(), lease);
        } else {
            List<OutcomeStore.Completion> written = new ArrayList<>(completions.size());
            for (Completer.Request r : completions) {
                written.add(r.completion());
            }
            LeaseStore.Round round;
            try {
                round = completer.inRound(() -> leases.claimAndComplete(
                        workerId, fromQueues, after, types.get(), limit, exclude.get(), lease, written));
            } catch (RuntimeException e) {
                completer.failed(completions, e);
                throw e;
            }
            completer.answer(completions, round.completed());
            jobs = round.claimed();
        }
        stats.claimed.addAndGet(jobs.size());
        return jobs;
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
                if (!claiming && claimsStopped.getCount() > 0) {
                    releaseQueued.run();
                    claimsStopped.countDown();
                }
                Claimed c = runOnce();
                if ((c.claimed() > 0 && c.claimed() == c.requested())
                        || (completer != null && completer.due(idle(queued.getAsInt())))) {
                    // Every slot asked for got a job (more may be waiting), or completions are due:
                    // go round again at once.
                    continue;
                }
                Duration sleep = pollInterval;
                if (completer != null && completer.pending()) {
                    // Completions wait for a claim to ride with, but not longer than they are due.
                    long due = Math.max(completer.nanosUntilDue(), 100_000L);
                    if (due < sleep.toNanos()) {
                        sleep = Duration.ofNanos(due);
                    }
                }
                wakeup.await(sleep);
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

    /** Nothing runs or waits to run here: a completion will not get a claim to share a statement with. */
    private boolean idle(int waiting) {
        return waiting == 0 && capacity.busy() == 0;
    }

    private void pause() {
        try {
            Thread.sleep(ERROR_PAUSE);
        } catch (InterruptedException e) {
            // stopping, or woken: either way, go round again
        }
    }

    /**
     * No claims from now on; the jobs claimed ahead that wait for a slot are given back. Returns
     * once that is done; completions are still written in rounds until {@link #stop()}.
     */
    void stopClaiming() {
        claiming = false;
        synchronized (pickUpLock) {
            // A pickup in flight has finished; the next one sees that claims stopped.
        }
        if (!thread.isAlive()) {
            if (claimsStopped.getCount() > 0) {
                releaseQueued.run();
                claimsStopped.countDown();
            }
            return;
        }
        wakeup.signal();
        try {
            if (!claimsStopped.await(30, TimeUnit.SECONDS)) {
                log.warn("claim loop of {} did not stop claiming within 30 s", workerId);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops claiming, writes the completions still queued and ends the loop. */
    void stop() {
        stopClaiming();
        stopped = true;
        wakeup.signal();
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (completer != null) {
            completer.writtenByCallers();
            completer.writeRest();
        }
    }
}
