package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.db.DatabaseException;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobControls;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.JsonLimits;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.job.Results.Fenced;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.SpawnLeaseLost;
import dev.gaffer.job.Results.SpawnResult;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Written;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each claimed job on a virtual thread of its own and writes the handler's outcome with a
 * fenced statement. A claimed job waits in a local queue until a slot is free (the claim loop
 * claims a bounded number ahead of the free slots, see {@link #prefetch()}); a handler that
 * returns gives its slot back and starts the next queued job itself, without a round trip. A
 * completion is written in the claim loop's next round ({@link Completer}); every other outcome
 * on the handler's thread before its slot is given back. A job stays in {@code running} (held:
 * beaten for, excluded from this worker's claims) until its outcome is written, and an
 * interrupted handler that ignores its interruption keeps its slot.
 */
final class JobRunner {

    /**
     * Jobs are claimed ahead only while handlers return faster than this on average: a job claimed
     * ahead waits for a slot here, and a long one would wait while another worker had a free slot.
     */
    static final Duration PREFETCH_WHEN_RUNS_UNDER = Duration.ofMillis(50);

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    private static final Duration FIRST_WRITE_RETRY = Duration.ofMillis(100);
    private static final Duration MAX_WRITE_RETRY = Duration.ofSeconds(2);

    private final String workerId;
    private final OutcomeStore outcomes;
    private final LeaseStore leases;
    private final JobQueries queries;
    private final Completer completer;
    private final HandlerRegistry registry;
    private final Map<Long, RunningJob> running;
    private final Capacity capacity;
    private final Wakeup wakeup;
    private final Backoff backoff;
    private final Duration defaultTimeout;
    private final Duration writeDeadline;
    private final WorkerStats stats;
    private Deadlines deadlines;
    private final int prefetchLimit;
    private final dev.gaffer.job.CallbackStore callbacks;
    private final dev.gaffer.job.CallbackTokens tokens;
    // Claimed jobs waiting for a slot, in claim order; guarded by itself.
    private final ArrayDeque<RunningJob> queued = new ArrayDeque<>();
    // When the job at the head of the queue was claimed (System.nanoTime()); 0 when none waits.
    private volatile long headClaimedNanos;
    // Moving average of recent handlers' run time in nanoseconds; -1 until one returned.
    private volatile long averageRunNanos = -1;

    JobRunner(
            String workerId,
            OutcomeStore outcomes,
            LeaseStore leases,
            JobQueries queries,
            Completer completer,
            HandlerRegistry registry,
            Map<Long, RunningJob> running,
            Capacity capacity,
            Wakeup wakeup,
            Backoff backoff,
            Duration defaultTimeout,
            Duration writeDeadline,
            WorkerStats stats,
            int prefetchLimit,
            dev.gaffer.job.CallbackStore callbacks,
            dev.gaffer.job.CallbackTokens tokens) {
        this.callbacks = callbacks;
        this.tokens = tokens;
        this.prefetchLimit = prefetchLimit;
        this.workerId = workerId;
        this.outcomes = outcomes;
        this.leases = leases;
        this.queries = queries;
        this.completer = completer;
        this.registry = registry;
        this.running = running;
        this.capacity = capacity;
        this.wakeup = wakeup;
        this.backoff = backoff;
        this.defaultTimeout = defaultTimeout;
        this.writeDeadline = writeDeadline;
        this.stats = stats;
    }

    /**
     * Called by the claim loop for each job it claimed: queued, and started at once when a slot is
     * free. A job whose control fields are unusable (a {@code timeout_ms} out of range, written
     * past the API) fails at once, alone, with a message naming the field; nothing here can stop
     * the rest of the batch from starting.
     */
    void start(Job job) {
        Duration timeout;
        try {
            Duration asked = JobControls.timeout(job.parameters());
            timeout = asked == null ? defaultTimeout : asked;
        } catch (InvalidJobException e) {
            refuse(job, e.getMessage());
            return;
        }
        RunningJob rj = new RunningJob(job, timeout, RunningJob.State.QUEUED);
        RunningJob earlier = running.putIfAbsent(job.id(), rj);
        if (earlier != null) {
            // An earlier run of this job still holds its place here: its lease was lost (the job
            // reclaimed and approved again) before this worker learnt of it. Two runs of one job
            // in one process would mix up their leases: the new one goes back at once, without
            // using its attempt, and the old one learns of its loss at the next heartbeat.
            log.warn(
                    "job {} was claimed again (attempt {}) while attempt {} still runs here; giving it back",
                    job.id(),
                    job.attempt(),
                    earlier.lease.attempt());
            earlier.claimedAgain = true;
            excluded = null;
            try {
                leases.release(workerId, List.of(job.lease()));
            } catch (RuntimeException e) {
                log.error("job {} could not be given back; it will be reclaimed", job.id(), e);
            }
            return;
        }
        synchronized (queued) {
            queued.add(rj);
            if (queued.size() == 1) {
                headClaimedNanos = rj.claimedNanos;
            }
        }
        startQueued();
    }

    /**
     * The jobs whose lease this worker knows it lost while their handlers still run: each may be
     * approved again already, and claiming it here would run it twice in this process. Usually
     * none. A lease lost without this worker knowing yet (its next heartbeat tells it) is caught
     * after the claim instead ({@link #start}), which gives such a job back at once. Looked for at
     * most every {@link #EXCLUDED_FRESH_NANOS}, and at once after such a catch: a walk over every
     * job held was a round's largest cost after its statement at a prefetch of 512. Claim loop
     * thread only.
     */
    List<Long> excludedFromClaims() {
        long now = System.nanoTime();
        List<Long> cached = excluded;
        if (cached != null && now - excludedAt < EXCLUDED_FRESH_NANOS) {
            return cached;
        }
        List<Long> lost = new ArrayList<>();
        for (RunningJob rj : running.values()) {
            RunningJob.State s = rj.state();
            if (s == RunningJob.State.LOST || s == RunningJob.State.RELEASED || rj.claimedAgain) {
                lost.add(rj.id());
            }
        }
        excluded = List.copyOf(lost);
        excludedAt = now;
        return excluded;
    }

    private static final long EXCLUDED_FRESH_NANOS = Duration.ofMillis(50).toNanos();
    private List<Long> excluded;
    private long excludedAt;

    /**
     * How many more jobs the claim loop may claim than there are free slots: none until a handler
     * has returned, none while handlers average {@link #PREFETCH_WHEN_RUNS_UNDER} or more, and
     * otherwise as many as the slots get through in about {@link #PREFETCH_QUEUE_WAIT} at the
     * average run time, at most the configured prefetch. So a job claimed ahead waits about that
     * long at most, while short jobs are claimed in batches large enough that a round's statement
     * costs little per job (docs/benchmarks.md).
     */
    int prefetch() {
        long avg = averageRunNanos;
        if (avg < 0 || avg >= PREFETCH_WHEN_RUNS_UNDER.toNanos() || prefetchSuspended || stalled(PREFETCH_QUEUE_WAIT)) {
            return 0;
        }
        long fit = capacity.concurrency() * (PREFETCH_QUEUE_WAIT.toNanos() / Math.max(avg, 1));
        return (int) Math.max(1, Math.min(prefetchLimit, fit));
    }

    /**
     * Whether the job at the head of the queue has waited longer than {@code limit}: the slots are
     * held by handlers running longer than the average says (the first long ones after short ones,
     * or jobs that wait for one another), and claiming ahead would keep jobs from other workers.
     */
    private boolean stalled(Duration limit) {
        long head = headClaimedNanos;
        return head != 0 && System.nanoTime() - head > limit.toNanos();
    }

    /**
     * Gives the jobs claimed ahead back (to approved, attempt unused) once the oldest has waited
     * twice {@link #PREFETCH_QUEUE_WAIT} for a slot: other workers may have free slots. Called by
     * the claim loop every round; returns how many were given back.
     */
    int releaseStalled() {
        if (!stalled(PREFETCH_QUEUE_WAIT.multipliedBy(2))) {
            return 0;
        }
        // Not again until a handler returns: the jobs just given back would be claimed right back.
        prefetchSuspended = true;
        return releaseQueued("their slots stayed busy");
    }

    // Set when the jobs claimed ahead were given back for want of a slot; cleared by the next handler that returns.
    private volatile boolean prefetchSuspended;

    /** About how long a job claimed ahead may wait here for a slot, at the average run time. */
    static final Duration PREFETCH_QUEUE_WAIT = Duration.ofMillis(100);

    /** Claimed jobs waiting for a slot. */
    int queuedCount() {
        synchronized (queued) {
            return queued.size();
        }
    }

    /** Starts queued jobs, in claim order, while their queues have free slots; returns how many still wait. */
    int startQueued() {
        List<RunningJob> starting = new ArrayList<>();
        int left;
        synchronized (queued) {
            Iterator<RunningJob> it = queued.iterator();
            while (it.hasNext() && capacity.free() > 0) {
                RunningJob rj = it.next();
                if (rj.state() != RunningJob.State.QUEUED) {
                    // Its lease went while it waited (cancelled, reclaimed, released).
                    it.remove();
                    running.remove(rj.id(), rj);
                } else if (capacity.free(rj.job.queue()) > 0) {
                    it.remove();
                    capacity.take(rj.job.queue());
                    starting.add(rj);
                }
            }
            left = queued.size();
            RunningJob head = queued.peekFirst();
            headClaimedNanos = head == null ? 0 : head.claimedNanos;
        }
        for (RunningJob rj : starting) {
            launch(rj);
        }
        return left;
    }

    /**
     * Shutdown: the jobs that wait for a slot go back to approved at once, without using an
     * attempt, so that other workers take them. Returns how many were given back.
     */
    int releaseQueued() {
        return releaseQueued("the worker stops claiming");
    }

    private int releaseQueued(String why) {
        List<RunningJob> back = new ArrayList<>();
        synchronized (queued) {
            for (RunningJob rj : queued) {
                if (rj.stop(RunningJob.State.RELEASED)) {
                    back.add(rj);
                }
            }
            queued.clear();
            headClaimedNanos = 0;
        }
        if (back.isEmpty()) {
            return 0;
        }
        try {
            int n = leases.release(workerId, back.stream().map(rj -> rj.lease).toList())
                    .size();
            log.info("worker {} gave back {} job(s) it had claimed ahead: {}", workerId, n, why);
            return n;
        } catch (RuntimeException e) {
            log.error(
                    "worker {} could not give back {} job(s) claimed ahead; they will be reclaimed",
                    workerId,
                    back.size(),
                    e);
            return 0;
        } finally {
            back.forEach(rj -> running.remove(rj.id(), rj));
        }
    }

    /** Starts one job whose slot was taken; whatever goes wrong stays with that job. */
    private void launch(RunningJob rj) {
        Job job = rj.job;
        if (!rj.start()) {
            capacity.give(job.queue());
            running.remove(job.id(), rj);
            return;
        }
        try {
            Thread t = Thread.ofVirtual().name("gaffer-job-" + job.id()).unstarted(() -> run(rj));
            rj.attach(t);
            t.start();
        } catch (RuntimeException e) {
            running.remove(job.id(), rj);
            capacity.give(job.queue());
            log.error("job {} was claimed but could not be started; giving it back", job.id(), e);
            try {
                leases.release(workerId, List.of(job.lease()));
            } catch (RuntimeException releaseFailed) {
                log.error("job {} could not be given back either; it will be reclaimed", job.id(), releaseFailed);
            }
            return;
        }
        // After the start, so that the interruption always reaches a running thread. A run that
        // ended before this is not RUNNING any more, and its deadline is not looked at.
        Deadlines d = deadlines;
        if (d != null) {
            d.started(rj);
        }
    }

    /** The thread that interrupts runs at their timeout; set once by the worker before any job starts. */
    void deadlines(Deadlines d) {
        this.deadlines = d;
    }

    /** Fails a job that cannot run as it is, without using a slot; retrying would not change it. */
    private void refuse(Job job, String why) {
        log.info("job {} attempt {} cannot run: {}", job.id(), job.attempt(), why);
        Fenced r = outcomes.fail(job.lease(), "cannot run: " + why, false, Duration.ZERO);
        if (r instanceof Written) {
            stats.failed.incrementAndGet();
        }
    }

    /** A run past its deadline ({@link Deadlines}): interrupts the handler, however short its timeout. */
    void timedOut(RunningJob rj) {
        if (rj.stop(RunningJob.State.TIMED_OUT)) {
            stats.timedOut.incrementAndGet();
            log.warn("job {} ran past its timeout of {} ms; interrupting it", rj.id(), rj.timeout.toMillis());
        }
    }

    private void run(RunningJob rj) {
        boolean queuedForRound = false;
        try {
            Outcome outcome = null;
            Throwable error = null;
            JobHandler handler = registry.get(rj.job.type());
            try {
                if (handler == null) {
                    // Retryable: another worker of a mixed cluster may have this handler.
                    error = new IllegalStateException(
                            "no handler for job type '" + rj.job.type() + "' on worker " + workerId);
                } else {
                    outcome = handler.handle(new RunContext(rj, queries, callbacks, tokens));
                    if (outcome == null) {
                        error = new IllegalStateException("the handler of '" + rj.job.type() + "' returned null");
                    }
                }
            } catch (Throwable t) {
                error = t;
            }
            // The interrupt (if any) was meant for the handler, not for the writes below.
            Thread.interrupted();
            prefetchSuspended = false;
            long ran = System.nanoTime() - rj.startedNanos;
            long avg = averageRunNanos;
            averageRunNanos = avg < 0 ? ran : avg + (ran - avg) / 8;
            queuedForRound = finish(rj, outcome, error);
        } catch (RuntimeException e) {
            log.error("job {}: could not write its outcome; it will be reclaimed", rj.id(), e);
        } finally {
            if (!queuedForRound) {
                running.remove(rj.id(), rj);
            }
            capacity.give(rj.job.queue());
            int left = startQueued();
            // The claim loop refills the jobs claimed ahead once half of them have started; with
            // none claimed ahead, a free slot is reason enough.
            if (left <= prefetch() / 2) {
                wakeup.signal();
            }
        }
    }

    /** Writes the outcome; true when it was queued for the claim loop's next round instead (a completion). */
    private boolean finish(RunningJob rj, Outcome outcome, Throwable error) {
        if (rj.move(RunningJob.State.RUNNING, RunningJob.State.FINISHING)) {
            if (error != null) {
                String summary = ErrorSummary.of(error);
                log.info("job {} attempt {} failed: {}", rj.id(), rj.lease.attempt(), firstLine(summary));
                record(rj, write(rj, () -> outcomes.fail(rj.lease, summary, true, backoff.delay(rj.lease.attempt()))));
            } else if (outcome instanceof Outcome.Complete c) {
                JsonNode checked;
                try {
                    checked = JsonLimits.checked("result", c.result());
                } catch (InvalidJobException e) {
                    // Stored, it would break every reader of the job: the handler's bug fails the job.
                    String why = "the handler's result cannot be stored: " + e.getMessage();
                    record(rj, write(rj, () -> outcomes.fail(rj.lease, why, false, Duration.ZERO)));
                    return false;
                }
                completer
                        .submit(rj.lease, checked, rj.job.parentId() != null)
                        .whenComplete((written, failure) -> completed(rj, written, failure));
                return true;
            } else {
                record(rj, write(rj, () -> apply(rj, outcome)));
            }
        } else if (rj.move(RunningJob.State.TIMED_OUT, RunningJob.State.FINISHING)) {
            String message = "timed out after " + rj.timeout.toMillis() + " ms";
            record(rj, write(rj, () -> outcomes.fail(rj.lease, message, true, backoff.delay(rj.lease.attempt()))));
        } else {
            stats.discarded.incrementAndGet();
            log.info("job {} attempt {}: outcome discarded ({})", rj.id(), rj.lease.attempt(), rj.state());
        }
        return false;
    }

    /** The answer of a completion written in a round (on the claim loop's thread: kept short). */
    private void completed(RunningJob rj, Fenced written, Throwable failure) {
        if (failure != null) {
            running.remove(rj.id(), rj);
            log.error("job {}: could not write its outcome; it will be reclaimed", rj.id(), failure);
        } else if (written instanceof Written) {
            running.remove(rj.id(), rj);
            stats.completed.incrementAndGet();
        } else {
            // A lost lease: finding out whether it was a cancel reads the database, off this thread.
            Thread.ofVirtual().name("gaffer-lost-" + rj.id()).start(() -> {
                try {
                    record(rj, written);
                } finally {
                    running.remove(rj.id(), rj);
                }
            });
        }
    }

    private Fenced apply(RunningJob rj, Outcome outcome) {
        return switch (outcome) {
            // Completions are queued for the claim loop's rounds (finish), not written here.
            case Outcome.Complete c -> throw new IllegalStateException("a completion is written in a round");
            case Outcome.RetryLater r -> outcomes.fail(rj.lease, ErrorSummary.cap(r.reason()), true, r.delay());
            case Outcome.Fail f -> outcomes.fail(rj.lease, ErrorSummary.cap(f.error()), false, Duration.ZERO);
            case Outcome.AwaitReview a -> {
                if (rj.job.parentId() != null) {
                    yield outcomes.fail(
                            rj.lease,
                            "the handler asked for a review of gate " + a.gate()
                                    + ", but only a top-level job stops at a gate: its parent is what a person reviews",
                            false,
                            Duration.ZERO);
                }
                JsonNode summary;
                try {
                    summary = JsonLimits.checked("review summary", a.summary());
                } catch (InvalidJobException e) {
                    yield outcomes.fail(
                            rj.lease,
                            "the handler's review summary cannot be stored: " + e.getMessage(),
                            false,
                            Duration.ZERO);
                }
                yield outcomes.awaitReview(rj.lease, false, a.gate(), a.resumeStage(), a.redoStage(), summary);
            }
            case Outcome.AwaitCallback a -> {
                var waited = callbacks.await(rj.lease, a.timeout(), a.pollEvery(), a.resumeStage());
                yield switch (waited) {
                    // approved again with no run_at of a retry: record() counts it as a wait
                    case WAITING -> new Written(rj.id(), JobStatus.APPROVED, null);
                    case LEASE_LOST -> new LeaseLost(rj.lease);
                    case EXPIRED ->
                        outcomes.fail(
                                rj.lease,
                                "no callback within " + a.timeout().toMillis() + " ms of the first wait",
                                true,
                                backoff.delay(rj.job.attempt()));
                };
            }
            case Outcome.WaitForSubJobs w -> {
                SpawnResult s =
                        outcomes.waitForSubJobs(rj.lease, w.subJobs(), w.fanoutStage(), w.resumeStage(), w.policy());
                yield switch (s) {
                    case Spawned sp -> new Written(rj.id(), JobStatus.WAITING, null);
                    case SpawnLeaseLost l -> new LeaseLost(l.lease());
                };
            }
        };
    }

    private void record(RunningJob rj, Fenced result) {
        switch (result) {
            case Written w -> {
                switch (w.status()) {
                    case COMPLETED -> stats.completed.incrementAndGet();
                    // A retry names when it runs again; a wait for a callback (AwaitCallback) does not.
                    case APPROVED -> (w.runAt() == null ? stats.awaitingCallback : stats.retried).incrementAndGet();
                    case FAILED -> stats.failed.incrementAndGet();
                    case WAITING -> stats.waiting.incrementAndGet();
                    case PENDING -> stats.awaitingReview.incrementAndGet();
                    default -> throw new IllegalStateException("job " + rj.id() + " ended up " + w.status());
                }
            }
            case LeaseLost l -> {
                rj.move(RunningJob.State.FINISHING, RunningJob.State.LOST);
                stats.discarded.incrementAndGet();
                if (!wasCancelled(rj.id())) {
                    log.warn(
                            "job {} attempt {}: lease lost before the outcome was written; outcome discarded",
                            rj.id(),
                            rj.lease.attempt());
                } else {
                    log.info(
                            "job {} attempt {}: cancelled before the outcome was written; outcome discarded",
                            rj.id(),
                            rj.lease.attempt());
                }
            }
        }
    }

    /** Whether a lost lease was a cancel (logged as such, not as a fault); false when that cannot be read. */
    private boolean wasCancelled(long id) {
        try {
            return !leases.cancelled(List.of(id)).isEmpty();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Writes an outcome, retrying while the database is unreachable, for at most the write deadline. */
    private Fenced write(RunningJob rj, java.util.function.Supplier<Fenced> writer) {
        long deadline = System.nanoTime() + writeDeadline.toNanos();
        Duration pause = FIRST_WRITE_RETRY;
        while (true) {
            try {
                return writer.get();
            } catch (DatabaseException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                log.warn(
                        "job {}: writing the outcome failed ({}); retrying in {} ms",
                        rj.id(),
                        e.getMessage(),
                        pause.toMillis());
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pause = pause.multipliedBy(2).compareTo(MAX_WRITE_RETRY) > 0 ? MAX_WRITE_RETRY : pause.multipliedBy(2);
            }
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
