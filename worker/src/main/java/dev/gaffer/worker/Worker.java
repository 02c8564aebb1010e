package dev.gaffer.worker;

import dev.gaffer.db.Database;
import dev.gaffer.db.NotificationListener;
import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.JobHistory;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.Lease;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.job.ReclaimStore;
import dev.gaffer.job.ReviewTrail;
import dev.gaffer.worker.maintenance.Maintenance;
import dev.gaffer.worker.maintenance.Pruner;
import dev.gaffer.worker.maintenance.Reclaimer;
import dev.gaffer.worker.maintenance.WorkerExpiry;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker process's runtime, wired with constructors: the claim loop, the LISTEN wake-ups,
 * the job runner, the heartbeater and (unless disabled) the cluster maintenance. Stateless:
 * everything it knows that matters is in PostgreSQL, so any number of these can run.
 */
public final class Worker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    private static final Duration INTERRUPTED_HANDLERS_WAIT = Duration.ofSeconds(5);
    /** How long the preview of a pending job may take (issue 18): cheap and bounded, by contract. */
    static final Duration PREVIEW_TIMEOUT = Duration.ofSeconds(30);

    private enum Phase {
        NEW,
        STARTED,
        STOPPING,
        STOPPED
    }

    private final WorkerConfig config;
    private final String id;
    private final LeaseStore leases;
    private final ReclaimStore reclaims;
    private final Database claimPool;
    private final WorkerStore workerStore;
    private final WorkerStore.Registration registration;
    private final Map<Long, RunningJob> running = new ConcurrentHashMap<>();
    private final Capacity capacity;
    private final Wakeup wakeup = new Wakeup();
    private final WorkerStats stats = new WorkerStats();
    private final Completer completer;
    private final JobRunner runner;
    private final ClaimLoop claimLoop;
    private final PreviewRunner previews;
    private final Heartbeater heartbeater;
    private final NotificationListener listener;
    private final Maintenance maintenance;
    private final Reclaimer reclaimer;
    private final CancelledWaits cancelledWaits;
    private final Pruner pruner;
    private final WorkerExpiry workerExpiry;
    private final Deadlines deadlines;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private Phase phase = Phase.NEW;

    /** Below this, a busy machine's pauses alone would make the listener reconnect. */
    static final Duration MIN_LISTEN_PING_TIMEOUT = Duration.ofSeconds(1);

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** A worker inside an application, on the application's own pool: see {@link WorkerBuilder}. */
    public static WorkerBuilder builder(javax.sql.DataSource dataSource) {
        return new WorkerBuilder(dataSource);
    }

    public Worker(WorkerConfig config, Database database, HandlerRegistry registry) {
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(database, "database");
        this.id = config.name() + "/" + HexFormat.of().formatHex(randomBytes(4));
        this.leases = new LeaseStore(database.dataSource());
        this.reclaims = new ReclaimStore(database.dataSource());
        OutcomeStore outcomes = new OutcomeStore(database.dataSource());
        // The claim is this worker's most frequent statement and planning it cost about as much
        // as running it; it is written so that its generic plan is as good as a custom one, and
        // runs on a connection of its own that always uses the cached plan (docs/benchmarks.md).
        // One connection: the claim loop is one thread.
        this.claimPool = database.sibling("claim", 1, Map.of("plan_cache_mode", "force_generic_plan"));
        this.workerStore = new WorkerStore(database.dataSource());
        this.registration = new WorkerStore.Registration(
                id,
                config.name(),
                WorkerConfig.hostName(),
                ProcessHandle.current().pid(),
                config.queues(),
                config.concurrency(),
                config.heartbeatTimeout());
        this.capacity = new Capacity(config.concurrency(), config.queueLimits());
        Lock leaseWrites = new ReentrantLock();
        this.completer = new Completer(id, outcomes, leaseWrites, config.heartbeatTimeout());
        this.runner = new JobRunner(
                id,
                outcomes,
                leases,
                new JobQueries(database.dataSource()),
                completer,
                registry,
                running,
                capacity,
                wakeup,
                new Backoff(config.retryBase(), config.retryCap()),
                config.jobTimeout(),
                config.heartbeatTimeout(),
                stats,
                config.prefetch(),
                new dev.gaffer.job.CallbackStore(database.dataSource()),
                new dev.gaffer.job.CallbackTokens(database.dataSource()));
        this.deadlines = new Deadlines(id, running.values(), runner::timedOut);
        runner.deadlines(deadlines);
        this.claimLoop = new ClaimLoop(
                id,
                config.queues(),
                new LeaseStore(claimPool.dataSource()),
                capacity,
                wakeup,
                config.pollInterval(),
                config.heartbeatTimeout(),
                runner::excludedFromClaims,
                registry::types,
                runner::start,
                stats,
                completer,
                runner::prefetch,
                runner::queuedCount,
                runner::releaseQueued,
                runner::releaseStalled);
        this.previews = new PreviewRunner(
                id,
                new dev.gaffer.job.PreviewStore(database.dataSource()),
                new dev.gaffer.artifact.ArtifactStore(
                        database.dataSource(), dev.gaffer.artifact.ArtifactStore.DEFAULT_MAX_BYTES),
                registry,
                config.pollInterval(),
                PREVIEW_TIMEOUT);
        this.heartbeater = new Heartbeater(
                id,
                leases,
                workerStore,
                registration,
                running,
                config.heartbeatInterval(),
                config.heartbeatTimeout(),
                stats,
                leaseWrites);
        this.listener = config.listen()
                // A quiet LISTEN connection is checked once per heartbeat interval, so that a dead
                // or half-open one is replaced within about two intervals, well inside the lease.
                ? new NotificationListener(
                        database,
                        JobHistory.CHANNEL,
                        config.heartbeatInterval(),
                        max(config.heartbeatInterval(), MIN_LISTEN_PING_TIMEOUT))
                : null;
        this.reclaimer = new Reclaimer(reclaims, Reclaimer.Config.DEFAULTS);
        this.cancelledWaits = new CancelledWaits(
                new dev.gaffer.job.CallbackStore(database.dataSource()), registry, config.reclaimInterval(), id);
        this.pruner = new Pruner(
                reclaims,
                new ReviewTrail(database.dataSource()),
                Pruner.Config.of(config.retention(), config.auditRetention()));
        this.workerExpiry = new WorkerExpiry(workerStore, new WorkerExpiry.Config(config.workerExpiry()));
        this.maintenance = config.maintenance()
                ? new Maintenance(
                        database.dataSource(),
                        id,
                        Maintenance.Config.of(config.reclaimInterval()),
                        reclaimer,
                        pruner,
                        workerExpiry)
                : null;
    }

    /**
     * Registers, frees the jobs of dead predecessors with the same name, and starts listening,
     * beating, claiming and (unless disabled) maintenance.
     */
    public synchronized Worker start() {
        if (phase != Phase.NEW) {
            throw new IllegalStateException("worker " + id + " was already started");
        }
        workerStore.register(registration, 0);
        new StartupRecovery(workerStore, reclaims, registration).runOnce();
        if (listener != null) {
            listener.subscribe(new NotificationListener.Subscriber() {
                        @Override
                        public void onHint(NotificationListener.Hint hint) {
                            onHints(List.of(hint), null);
                        }

                        @Override
                        public void onHints(List<NotificationListener.Hint> hints, java.sql.Connection connection) {
                            // Every hint on this channel is of a job that is approved now, and
                            // it may sort before where the claims of its queue stand.
                            NotificationListener.Hint last = null;
                            int ours = 0;
                            for (NotificationListener.Hint hint : hints) {
                                if (hint.queue() == null || config.queues().contains(hint.queue())) {
                                    claimLoop.hint(hint.queue());
                                    last = hint;
                                    ours++;
                                }
                            }
                            if (ours == 0) {
                                return;
                            }
                            // One job, and nothing to do here: take it on this connection. Any
                            // other job approved meanwhile sends a hint of its own.
                            boolean pickedUp = ours == 1
                                    && connection != null
                                    && last.id() != null
                                    && last.queue() != null
                                    && claimLoop.pickUp(last.id(), last.queue(), connection);
                            if (!pickedUp) {
                                wakeup.signal();
                            }
                        }

                        @Override
                        public void onConnectionChange(boolean listening) {
                            // Hints sent while the connection was down are lost: look at once,
                            // from the head of every queue.
                            if (listening) {
                                claimLoop.hint(null);
                                wakeup.signal();
                            }
                        }
                    })
                    .start();
        }
        deadlines.start();
        heartbeater.start();
        cancelledWaits.start();
        claimLoop.start();
        previews.start();
        if (maintenance != null) {
            maintenance.start();
        }
        phase = Phase.STARTED;
        log.info(
                "worker {} started: queues {}, concurrency {}, {}",
                id,
                config.queues(),
                config.concurrency(),
                listener != null
                        ? "LISTEN + poll every " + config.pollInterval().toMillis() + " ms"
                        : "poll-only every " + config.pollInterval().toMillis() + " ms");
        return this;
    }

    /**
     * The first step of {@link #shutdown} on its own: no claims from now on. Workers that share a
     * process stop claiming together before any of them gives jobs back (gaffer dev), so that none
     * of them claims again what another one just released.
     */
    public void stopClaiming() {
        synchronized (this) {
            if (phase != Phase.STARTED) {
                return;
            }
        }
        claimLoop.stopClaiming();
    }

    /**
     * Graceful shutdown: stop claiming, let running handlers finish for up to {@code grace}, then
     * interrupt the rest and give their jobs back to approved without using an attempt, and
     * deregister. Idempotent; returns the number of jobs released.
     */
    public int shutdown(Duration grace) {
        synchronized (this) {
            if (phase != Phase.STARTED) {
                if (phase == Phase.NEW) {
                    phase = Phase.STOPPED;
                    closeQuietly("claim pool", claimPool);
                    deadlines.close();
                    terminated.countDown();
                }
                return 0;
            }
            phase = Phase.STOPPING;
        }
        log.info("worker {} shutting down: {} job(s) running, grace {} ms", id, running.size(), grace.toMillis());
        int released = 0;
        try {
            // Jobs claimed ahead go back at once; completions are still written in rounds.
            claimLoop.stopClaiming();
            awaitIdle(grace);
            released = releaseRemaining();
            awaitIdle(INTERRUPTED_HANDLERS_WAIT);
        } finally {
            deadlines.close();
            claimLoop.stop();
            previews.close();
            heartbeater.stop();
            cancelledWaits.close();
            closeQuietly("maintenance", maintenance);
            closeQuietly("listener", listener);
            closeQuietly("claim pool", claimPool);
            try {
                workerStore.deregister(id);
            } catch (RuntimeException e) {
                log.warn("worker {} could not deregister; maintenance will expire its row", id, e);
            }
            synchronized (this) {
                phase = Phase.STOPPED;
            }
            terminated.countDown();
            WorkerStats.Snapshot st = stats.snapshot();
            log.info(
                    "worker {} stopped; released {} job(s); {} claimed and {} completed in {} rounds"
                            + " ({} ms in their statements, {} ms starting jobs)",
                    id,
                    released,
                    st.claimed(),
                    st.completed(),
                    st.claimStatements(),
                    st.roundStatementNanos() / 1_000_000,
                    st.roundStartNanos() / 1_000_000);
        }
        return released;
    }

    private int releaseRemaining() {
        List<Lease> held = new ArrayList<>();
        for (RunningJob rj : running.values()) {
            if (rj.stop(RunningJob.State.RELEASED)) {
                held.add(rj.lease);
            }
        }
        if (held.isEmpty()) {
            return 0;
        }
        try {
            int n = leases.release(id, held).size();
            stats.released.addAndGet(n);
            return n;
        } catch (RuntimeException e) {
            log.error("worker {} could not release {} job(s); they will be reclaimed", id, held.size(), e);
            return 0;
        }
    }

    private void awaitIdle(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!running.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Blocks until {@link #shutdown} has finished. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    @Override
    public void close() {
        shutdown(config.shutdownGrace());
    }

    public String id() {
        return id;
    }

    public WorkerConfig config() {
        return config;
    }

    public WorkerStats.Snapshot stats() {
        return stats.snapshot();
    }

    /** Jobs this worker's handlers are running right now. */
    public int runningCount() {
        return running.size();
    }

    /** The LISTEN connection, or null in poll-only mode. */
    public NotificationListener listener() {
        return listener;
    }

    // ---- the seam of this package's tests: what a test drives by hand ----------------------

    /** One heartbeat now (the worker beats on its own every interval). */
    Heartbeater.Beaten heartbeatOnce() {
        return heartbeater.runOnce();
    }

    /** Stops the heartbeat as a stalled process would: the leases go stale while the handlers run on. */
    void stopHeartbeat() {
        heartbeater.stop();
    }

    Reclaimer reclaimer() {
        return reclaimer;
    }

    private static void closeQuietly(String what, AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.warn("closing the {} failed", what, e);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
