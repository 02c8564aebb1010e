package dev.gaffer.bench;

import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.NewJob;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Outcome;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Pickup latency, approve → handler start, measured on one clock: the worker runs in the bench's
 * JVM (its own connection pool, the real Worker with LISTEN or poll-only) with a probe handler
 * that notes System.nanoTime() on entry.
 *
 * <p>Ping-pong: jobs one at a time; each is created pending and approved only once the previous
 * one finished and the worker is idle, at a random moment. Open loop: pending jobs approved on a
 * fixed schedule (rate per second) whether or not the worker keeps up; latency counts from the
 * scheduled moment, so a sender that falls behind shows up in the figures instead of hiding them.
 */
final class PingPong implements Scenario {

    record Config(
            int listenSamples,
            int pollSamples,
            Duration pollInterval,
            int openLoopRate,
            Duration openLoopDuration,
            Duration deadline) {
        static Config of(boolean quick) {
            return quick
                    ? new Config(200, 20, Duration.ofSeconds(1), 200, Duration.ofSeconds(10), Duration.ofMinutes(4))
                    : new Config(1000, 100, Duration.ofSeconds(1), 200, Duration.ofSeconds(30), Duration.ofMinutes(10));
        }
    }

    private static final Duration PICKUP_LIMIT = Duration.ofSeconds(30);

    private final Config config;

    PingPong(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "pingpong";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        String dbName = ctx.database("pingpong");
        ctx.db().create(dbName);
        try (Database db = ctx.db().open(dbName, 4);
                Database workerDb = ctx.db().open(dbName, 24)) {
            JobRequests store = new JobRequests(db.dataSource());
            List<Double> approveMs = new ArrayList<>();
            Percentiles listen = sequential(db, workerDb, true, config.listenSamples(), approveMs);
            out.note("ping-pong LISTEN: jobs picked up on the LISTEN connection: " + pickups);
            out.put("ping-pong LISTEN p50", listen.p(50), "ms");
            out.put("ping-pong LISTEN p99", listen.p(99), "ms", Measurements.Target.atMost(10, "< 10 ms"));
            out.put("ping-pong LISTEN max", listen.max(), "ms");
            // Of which the approve itself (its statement and durable commit), the rest being
            // NOTIFY delivery, the claim with its own commit, and starting the handler.
            Percentiles approve = new Percentiles(approveMs);
            out.put("ping-pong LISTEN: approve() call p50", approve.p(50), "ms");
            out.put("ping-pong LISTEN: approve() call p99", approve.p(99), "ms");
            Percentiles poll = sequential(db, workerDb, false, config.pollSamples(), new ArrayList<>());
            String p = "ping-pong poll-only (" + config.pollInterval().toMillis() + " ms)";
            out.put(p + " p50", poll.p(50), "ms");
            out.put(p + " p99", poll.p(99), "ms");
            out.put(p + " max", poll.max(), "ms");
            out.note("samples: LISTEN " + listen.size() + ", poll-only " + poll.size());
            Percentiles[] floor = floor(ctx, dbName, config.listenSamples());
            out.put("floor without Gaffer p50", floor[0].p(50), "ms");
            out.put("floor without Gaffer p99", floor[0].p(99), "ms");
            out.put("floor without Gaffer: approving commit p50", floor[1].p(50), "ms");
            openLoop(ctx, dbName, store, workerDb, out);
        } finally {
            ctx.db().drop(dbName);
        }
    }

    private Worker startWorker(Database workerDb, HandlerRegistry registry, boolean listen, String name)
            throws InterruptedException {
        WorkerConfig wc = WorkerConfig.defaults().withName(name).withPolling(config.pollInterval(), listen);
        Worker worker = new Worker(wc, workerDb, registry).start();
        long end = System.nanoTime() + PICKUP_LIMIT.toNanos();
        while (listen && !worker.listener().isListening()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("the worker's LISTEN connection did not come up");
            }
            Thread.sleep(10);
        }
        Thread.sleep(500);
        return worker;
    }

    private Percentiles sequential(Database db, Database workerDb, boolean listen, int samples, List<Double> approveMs)
            throws Exception {
        JobRequests store = new JobRequests(db.dataSource());
        JobQueries jobs = new JobQueries(db.dataSource());
        BlockingQueue<long[]> started = new LinkedBlockingQueue<>();
        HandlerRegistry registry = new HandlerRegistry().register("probe", c -> {
            started.add(new long[] {c.jobId(), System.nanoTime()});
            return Outcome.complete(null);
        });
        Worker worker = startWorker(workerDb, registry, listen, listen ? "pingpong-listen" : "pingpong-poll");
        try {
            List<Double> ms = new ArrayList<>(samples);
            for (int i = 0; i < samples; i++) {
                Job job = store.create(NewJob.of("probe", null)).job();
                // A random moment, so that poll-only samples fall anywhere in the poll cycle.
                long jitter = listen ? 20 : config.pollInterval().toMillis();
                Thread.sleep(5 + ThreadLocalRandom.current().nextLong(jitter));
                long t0 = System.nanoTime();
                store.approve(job.id(), "bench");
                approveMs.add((System.nanoTime() - t0) / 1e6);
                long[] s = started.poll(PICKUP_LIMIT.toSeconds(), TimeUnit.SECONDS);
                if (s == null || s[0] != job.id()) {
                    throw new IllegalStateException("job " + job.id() + " did not start in time: " + s);
                }
                ms.add((s[1] - t0) / 1e6);
                long end = System.nanoTime() + PICKUP_LIMIT.toNanos();
                while (!jobs.find(job.id()).orElseThrow().status().isTerminal()) {
                    if (System.nanoTime() > end) {
                        throw new IllegalStateException("job " + job.id() + " did not finish in time");
                    }
                    Thread.sleep(1);
                }
            }
            var stats = worker.stats();
            pickups = stats.pickedUp() + " of " + stats.claimed();
            return new Percentiles(ms);
        } finally {
            worker.shutdown(Duration.ofSeconds(5));
        }
    }

    // How many of the last sequential run's jobs the worker took on its LISTEN connection.
    private String pickups = "";

    /**
     * The ping-pong's chain without Gaffer, same server, same clock, same pauses: a one-row UPDATE
     * with pg_notify, committed durably (the approval); heard on a LISTEN connection with Gaffer's
     * socket factory, whose thread runs a one-row UPDATE committed without waiting for the disk
     * (the claim) and hands over to a pool thread (the handler). What a pickup costs on this
     * machine before any job system adds its own work; returns end to end and the commit alone.
     */
    private Percentiles[] floor(Context ctx, String dbName, int samples) throws Exception {
        java.util.concurrent.ExecutorService handlers = java.util.concurrent.Executors.newFixedThreadPool(2);
        try (Connection approver = ctx.db().connect(dbName);
                Connection claimer = ctx.db().connect(dbName);
                Connection listening = ctx.db()
                        .connect(dbName, Map.of("socketFactory", dev.gaffer.db.ListenSocketFactory.class.getName()))) {
            Jobs.exec(approver, "CREATE TABLE floor_probe (id int PRIMARY KEY, approved int, claimed int)");
            Jobs.exec(approver, "INSERT INTO floor_probe VALUES (1, 0, 0)");
            Jobs.exec(listening, "LISTEN floor_probe");
            BlockingQueue<Long> started = new LinkedBlockingQueue<>();
            Thread listener = Thread.ofPlatform().daemon().start(() -> {
                try (java.sql.PreparedStatement claim =
                        claimer.prepareStatement("UPDATE floor_probe SET claimed = claimed + 1"
                                + " WHERE id = 1 AND set_config('synchronous_commit', 'off', true) = 'off'")) {
                    org.postgresql.PGConnection pg = listening.unwrap(org.postgresql.PGConnection.class);
                    while (!Thread.currentThread().isInterrupted()) {
                        org.postgresql.PGNotification[] got = pg.getNotifications(500);
                        for (int i = 0; got != null && i < got.length; i++) {
                            claim.executeUpdate();
                            handlers.execute(() -> started.add(System.nanoTime()));
                        }
                    }
                } catch (java.sql.SQLException e) {
                    // the connection closed at the end of the run
                }
            });
            List<Double> total = new ArrayList<>(samples);
            List<Double> commit = new ArrayList<>(samples);
            try (java.sql.PreparedStatement approve = approver.prepareStatement(
                    "WITH u AS (UPDATE floor_probe SET approved = approved + 1 WHERE id = 1 RETURNING approved)"
                            + " SELECT pg_notify('floor_probe', approved::text) FROM u")) {
                for (int i = 0; i < samples; i++) {
                    Thread.sleep(5 + ThreadLocalRandom.current().nextLong(20));
                    long t0 = System.nanoTime();
                    approve.executeQuery().close();
                    long t1 = System.nanoTime();
                    Long t2 = started.poll(PICKUP_LIMIT.toSeconds(), TimeUnit.SECONDS);
                    if (t2 == null) {
                        throw new IllegalStateException("floor: a notification did not arrive");
                    }
                    commit.add((t1 - t0) / 1e6);
                    total.add((t2 - t0) / 1e6);
                }
            } finally {
                listener.interrupt();
            }
            return new Percentiles[] {new Percentiles(total), new Percentiles(commit)};
        } finally {
            handlers.shutdownNow();
        }
    }

    private void openLoop(Context ctx, String dbName, JobRequests store, Database workerDb, Measurements out)
            throws Exception {
        int n = (int) (config.openLoopRate() * config.openLoopDuration().toSeconds());
        List<Long> ids;
        try (Connection c = ctx.db().connect(dbName)) {
            ids = Jobs.insertPending(c, n, "probe");
            Jobs.exec(c, "VACUUM ANALYZE jobs");
        }
        Map<Long, Long> startedAt = new ConcurrentHashMap<>();
        HandlerRegistry registry = new HandlerRegistry().register("probe", c -> {
            startedAt.put(c.jobId(), System.nanoTime());
            return Outcome.complete(null);
        });
        Worker worker = startWorker(workerDb, registry, true, "pingpong-open");
        long[] intended = new long[n];
        long lateSends = 0;
        try {
            long interval = 1_000_000_000L / config.openLoopRate();
            long start = System.nanoTime() + 100_000_000L;
            for (int i = 0; i < n; i++) {
                intended[i] = start + i * interval;
                long wait = intended[i] - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                } else if (wait < -interval) {
                    lateSends++;
                }
                store.approve(ids.get(i), "bench");
            }
            long end = System.nanoTime() + PICKUP_LIMIT.toNanos();
            while (startedAt.size() < n && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            if (startedAt.size() < n) {
                throw new IllegalStateException("open loop: " + (n - startedAt.size()) + " jobs never started");
            }
        } finally {
            worker.shutdown(Duration.ofSeconds(5));
        }
        List<Double> ms = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ms.add((startedAt.get(ids.get(i)) - intended[i]) / 1e6);
        }
        Percentiles p = new Percentiles(ms);
        String label = "open loop " + config.openLoopRate() + "/s for "
                + config.openLoopDuration().toSeconds() + " s";
        out.put(label + " p50", p.p(50), "ms");
        out.put(label + " p99", p.p(99), "ms");
        out.put(label + " max", p.max(), "ms");
        out.note(label + ": " + n + " jobs; sends more than one interval late: " + lateSends);
    }
}
