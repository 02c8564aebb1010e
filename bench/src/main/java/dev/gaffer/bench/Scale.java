package dev.gaffer.bench;

import dev.gaffer.db.Database;
import dev.gaffer.job.LeaseStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Scale: does the queue slow down as the table grows? One worker process (concurrency
 * {@code concurrency}) drains {@code measured} no-op jobs (1) with {@code small} approved jobs
 * queued, (2) with {@code large} queued, (3) with {@code large} queued and {@code retained}
 * finished jobs kept in the table, and (4) as (3) while another session sits idle in a
 * REPEATABLE READ transaction, pinning the xmin horizon so that no dead tuple can be removed.
 * Before each drain, the claim statement itself is timed: LeaseStore.claim for 16 slots, rolled
 * back, {@code claimSamples} times. Each drain starts with {@code warmUp} higher-priority jobs
 * that are not measured, and each starts from a checkpoint. After the run: dead tuples and sizes.
 */
final class Scale implements Scenario {

    record Config(
            int small,
            int large,
            int retained,
            int measured,
            int warmUp,
            int concurrency,
            int claimSamples,
            Duration deadline) {
        static Config of(boolean quick) {
            return quick
                    ? new Config(10_000, 100_000, 100_000, 5_000, 2_000, 64, 100, Duration.ofMinutes(8))
                    : new Config(100_000, 1_000_000, 5_000_000, 100_000, 20_000, 64, 200, Duration.ofMinutes(30));
        }
    }

    /**
     * Warm-up jobs go first (claim order is priority first), so that the worker's JIT is warm
     * before the measured jobs, which have priority 0, start. Without them a few seconds of
     * measurement mostly measured a cold JVM.
     */
    private static final int WARM_UP_PRIORITY = 10;

    private static final String MEASURED = "priority = 0";

    private final Config config;

    Scale(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "scale";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        out.note(String.format(
                "queued %d / %d, retained %d, measured %d jobs per case after %d warm-up jobs, worker concurrency %d",
                config.small(),
                config.large(),
                config.retained(),
                config.measured(),
                config.warmUp(),
                config.concurrency()));
        String small = ctx.database("scale_small");
        ctx.db().create(small);
        double base;
        try (Connection c = ctx.db().connect(small)) {
            Jobs.insertApproved(c, config.small(), "noop", "{}");
            Jobs.exec(c, "VACUUM ANALYZE jobs");
            base = drain(ctx, small, c, label(config.small(), 0), Math.min(config.measured(), config.small()), out);
        } finally {
            ctx.db().drop(small);
        }
        String large = ctx.database("scale_large");
        ctx.db().create(large);
        try (Connection c = ctx.db().connect(large)) {
            long t = System.nanoTime();
            Jobs.insertApproved(c, config.large(), "noop", "{}");
            Jobs.exec(c, "VACUUM ANALYZE jobs");
            drain(ctx, large, c, label(config.large(), 0), config.measured(), out);
            Jobs.insertCompleted(c, config.retained());
            Jobs.exec(c, "VACUUM ANALYZE jobs");
            out.note("inserting the rows took " + Bench.fmt((System.nanoTime() - t) / 1e9) + " s");
            String big = label(config.large(), config.retained());
            double r = drain(ctx, large, c, big, config.measured(), out);
            out.put(big + " / " + label(config.small(), 0), r / base, "×", Measurements.Target.atLeast(0.8, "≥ 0.8"));
            out.put("jobs table after: dead tuples", deadTuples(c, "jobs"), "rows");
            out.put("jobs table after: size with indexes", size(c, "pg_total_relation_size('jobs')"), "MiB");
            out.put("jobs_claimable_idx after", size(c, "pg_relation_size('jobs_claimable_idx')"), "MiB");
            // (4) the same with the xmin horizon pinned by an idle transaction.
            try (Connection pin = ctx.db().connect(large)) {
                pin.setAutoCommit(false);
                pin.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                Jobs.count(pin, "SELECT count(*) FROM workers");
                Jobs.number(pin, "SELECT txid_current()");
                double p = drain(ctx, large, c, big + ", xmin pinned", config.measured(), out);
                out.put(big + ", xmin pinned / " + label(config.small(), 0), p / base, "×");
                out.put("jobs table with xmin pinned: dead tuples", deadTuples(c, "jobs"), "rows");
                pin.rollback();
            }
        } finally {
            ctx.db().drop(large);
        }
    }

    private static String label(int queued, int retained) {
        return Bench.fmt(queued) + " queued" + (retained > 0 ? " + " + Bench.fmt(retained) + " retained" : "");
    }

    /** Times the claim, then drains {@code n} jobs with a worker process; returns jobs/s. */
    private double drain(Context ctx, String dbName, Connection c, String label, int n, Measurements out)
            throws Exception {
        claimLatency(ctx, dbName, label, out);
        Jobs.exec(
                c,
                "INSERT INTO jobs (type, priority, status, approved_by, approved_at) SELECT 'noop', "
                        + WARM_UP_PRIORITY + ", 'approved', 'bench', now() FROM generate_series(1, "
                        + config.warmUp() + ")");
        // The setup wrote up to 2 GB of WAL (5 000 000 rows); without a checkpoint here, the one
        // that WAL asks for starts during a later drain and writes the setup's pages out while it
        // is measured: 0.76× and 0.87× for (3) and (4) in one run, 0.91× and 0.59× in the next,
        // whichever drain it fell into (docs/benchmarks.md, 2026-12-07). Every case starts
        // from a checkpoint, as the burn-down starts from a vacuum.
        Jobs.exec(c, "CHECKPOINT");
        long mark = Jobs.finishedMark(c);
        double t0 = Jobs.clock(c);
        String name = "scale-" + ctx.run() + "-" + label.replaceAll("[^0-9a-z]+", "-");
        Process worker = ctx.children()
                .worker(
                        "scale-" + label.replaceAll("[^0-9a-z]+", "_") + "-run" + ctx.run(),
                        Jobs.workerEnv(ctx.db().url(dbName), name, config.concurrency()));
        Jobs.Window w;
        try {
            long end = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (Jobs.window(c, t0, mark, MEASURED).completed() < n) {
                if (!worker.isAlive() || System.nanoTime() > end) {
                    throw new IllegalStateException(label + ": worker died or did not finish; see its log");
                }
                Thread.sleep(200);
            }
        } finally {
            Children.stop(worker, Duration.ofSeconds(20));
        }
        w = Jobs.window(c, t0, mark, MEASURED);
        out.put(label + ": jobs/s", w.perSecond(), "jobs/s");
        return w.perSecond();
    }

    private void claimLatency(Context ctx, String dbName, String label, Measurements out) throws Exception {
        List<Double> ms = new ArrayList<>();
        try (Connection probe = ctx.db().connect(dbName)) {
            // The session of a worker's claim connection (Database.sibling in Worker): without
            // jit = off, PostgreSQL compiles the claim at every call once the table is large.
            for (var e : Database.SESSION_DEFAULTS.entrySet()) {
                Jobs.exec(probe, "SET " + e.getKey() + " = " + e.getValue());
            }
            Jobs.exec(probe, "SET plan_cache_mode = force_generic_plan");
            probe.setAutoCommit(false);
            LeaseStore store = new LeaseStore(new SingleConnection(probe));
            for (int i = 0; i < config.claimSamples(); i++) {
                long t = System.nanoTime();
                int got = store.claim("bench-probe/0", List.of("default"), 16, List.of())
                        .size();
                ms.add((System.nanoTime() - t) / 1e6);
                probe.rollback();
                if (got != 16) {
                    throw new IllegalStateException("claim probe got " + got + " jobs");
                }
            }
            StringBuilder plan = new StringBuilder();
            try (Statement st = probe.createStatement();
                    ResultSet rs = st.executeQuery("""
                            EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
                            SELECT id, priority, run_at FROM jobs
                             WHERE status = 'approved' AND queue = 'default' AND run_at <= now() AND id <> ALL ('{}'::bigint[])
                             ORDER BY priority DESC, run_at, id LIMIT 16 FOR UPDATE SKIP LOCKED""")) {
                while (rs.next()) {
                    plan.append(rs.getString(1).strip()).append(" / ");
                }
            }
            probe.rollback();
            out.note(label + ": plan of the claim's candidate query: " + plan);
        }
        Percentiles p = new Percentiles(ms);
        out.put(label + ": claim p50", p.p(50), "ms");
        out.put(label + ": claim p99", p.p(99), "ms");
    }

    private static double deadTuples(Connection c, String table) throws Exception {
        Thread.sleep(1000);
        return Jobs.number(c, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '" + table + "'");
    }

    private static double size(Connection c, String expression) throws Exception {
        return Jobs.number(c, "SELECT " + expression) / (1024.0 * 1024.0);
    }
}
