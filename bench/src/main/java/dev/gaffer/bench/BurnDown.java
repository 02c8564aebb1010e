package dev.gaffer.bench;

import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Burn-down throughput: {@code jobs} no-op jobs inserted in one statement, then drained by real
 * {@code gaffer worker} processes (1 at concurrency 16, 1 at 64, 2 at 32 each, 4 at 16 each), and the same
 * number of no-op executions drained by db-scheduler with lock-and-fetch at several thread
 * counts, one after the other in the same run. Each variant gets a fresh database. Throughput is
 * measured by the database: jobs / (last finished_at − first started_at); for db-scheduler, which
 * keeps no timestamps, by its process: first execution start to last execution end.
 *
 * <p>Every process first drains {@code warmUp} jobs (or executions) of its own, which are not
 * measured: a fresh JVM spends its first seconds interpreting and compiling, and a worker runs for
 * days. Their rate is reported as the cold figure. The table is vacuumed after the warm-up, as
 * autovacuum would have done, so that the measured drain starts on a clean queue; both systems
 * get the same treatment.
 *
 * <p>Also recorded per Gaffer variant, to find the bottleneck: commits and WAL bytes per job, and
 * CPU seconds per 1 000 jobs of PostgreSQL (all its processes) and of the worker JVMs; for every
 * variant, also server and client CPU µs per job, the figures the external peers report too.
 *
 * <p>With {@code --peers}, the peers harness runs after each run's own variants, outside the
 * deadline and with bounds of its own ({@link Peers}): graphile-worker, pg-boss, JobRunr and the
 * raw-SQL limit on the same server, as many jobs. {@link #summary} puts every variant side by side
 * and gives the ratios of medians.
 */
final class BurnDown implements Scenario {

    record Variant(String label, int processes, int concurrency) {}

    /**
     * {@code peers}: the external peers run by the peers harness after each run's own variants
     * ({@code bench/run --peers}), or null.
     */
    record Config(
            int jobs,
            int warmUp,
            List<Variant> gaffer,
            List<Integer> dbSchedulerThreads,
            Duration deadline,
            Peers.Config peers) {
        static Config of(boolean quick) {
            return new Config(
                    quick ? 20_000 : 100_000,
                    quick ? 5_000 : 20_000,
                    List.of(
                            new Variant("gaffer 1×16", 1, 16),
                            new Variant("gaffer 1×64", 1, 64),
                            new Variant("gaffer 2×32", 2, 32),
                            new Variant("gaffer 4×16", 4, 16)),
                    // db-scheduler's threads are its concurrency: the best of these is the reference.
                    quick ? List.of(32) : List.of(16, 32, 64),
                    Duration.ofMinutes(quick ? 10 : 30),
                    null);
        }

        /** Another burn-down size (bench/run --jobs); the deadline grows with it. */
        Config withJobs(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("--jobs must be positive, got " + n);
            }
            long minutes = Math.max(deadline.toMinutes(), deadline.toMinutes() * n / jobs);
            return new Config(n, warmUp, gaffer, dbSchedulerThreads, Duration.ofMinutes(minutes), peers);
        }

        /**
         * Only the Gaffer variants named like {@code 1x64} or {@code 2x32} (bench/run --variants):
         * processes × concurrency, any of the standard ones or another.
         */
        Config withVariants(List<String> names) {
            List<Variant> chosen = new ArrayList<>();
            for (String n : names) {
                Matcher m = Pattern.compile("(\\d+)[x×](\\d+)").matcher(n.trim());
                if (!m.matches()) {
                    throw new IllegalArgumentException(
                            "--variants takes processes x concurrency, like 1x64,2x32; got " + n);
                }
                int processes = Integer.parseInt(m.group(1));
                int concurrency = Integer.parseInt(m.group(2));
                if (processes < 1 || concurrency < 1) {
                    throw new IllegalArgumentException("--variants needs positive numbers, got " + n);
                }
                chosen.add(new Variant("gaffer " + processes + "×" + concurrency, processes, concurrency));
            }
            return new Config(jobs, warmUp, List.copyOf(chosen), dbSchedulerThreads, deadline, peers);
        }

        /** Gaffer only (bench/run --gaffer-only): for A/B runs of two Gaffer builds. */
        Config withoutPeer() {
            return new Config(jobs, warmUp, gaffer, List.of(), deadline, peers);
        }

        /** The external peers after each run (bench/run --peers). */
        Config withPeers(Peers.Config p) {
            return new Config(jobs, warmUp, gaffer, dbSchedulerThreads, deadline, p);
        }
    }

    private static final Pattern RESULT =
            Pattern.compile("RESULT executed=(\\d+) seconds=([0-9.]+) cpu=([0-9.]+) rss=([0-9.Na]+) finished=(\\w+)");
    private static final Pattern WARM = Pattern.compile("WARM executed=(\\d+) seconds=([0-9.]+)");

    private final Config config;

    BurnDown(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "burndown";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        out.note("jobs per variant: " + config.jobs() + ", after " + config.warmUp() + " warm-up jobs per process");
        double best = 0;
        double dbs = 0;
        for (Variant v : config.gaffer()) {
            double rate = gaffer(ctx, v, out);
            best = Math.max(best, rate);
        }
        for (int threads : config.dbSchedulerThreads()) {
            dbs = Math.max(dbs, dbScheduler(ctx, threads, out));
        }
        out.put("best gaffer jobs/s", best, "jobs/s", Measurements.Target.atLeast(5000, "≥ 5 000"));
        if (!config.dbSchedulerThreads().isEmpty()) {
            out.put("best db-scheduler jobs/s", dbs, "jobs/s");
            out.put("best gaffer / best db-scheduler", best / dbs, "×", Measurements.Target.atLeast(2, "≥ 2×"));
        }
    }

    @Override
    public void afterRun(Context ctx, Measurements out) {
        if (config.peers() != null) {
            Peers.run(ctx, config.peers(), out);
        }
    }

    static String dbSchedulerLabel(int threads) {
        return "db-scheduler lock-and-fetch ×" + threads;
    }

    private static final Pattern PEER_RATE = Pattern.compile("^(" + String.join("|", Peers.NAMES) + ") (\\S+) jobs/s$");

    /** One row of the side-by-side table: a system ("Gaffer", a peer's name) and a variant's label. */
    private record Row(String system, String label, String variant) {}

    /**
     * Every variant side by side (medians over the runs of jobs/s and CPU per job), and the ratios
     * of medians: Gaffer's best variant against the best peer queue and each peer's best variant
     * (raw SQL is the limit, not a queue: it is compared on its own line), and the scaling of more
     * processes at the same total concurrency (2×32 and 4×16 against 1×64).
     */
    @Override
    public String summary(List<Measurements> runs) {
        Map<String, Bench.Stats> st = Bench.stats(runs);
        List<Row> rows = new ArrayList<>();
        for (Variant v : config.gaffer()) {
            rows.add(new Row("Gaffer", v.label(), v.label().substring("gaffer ".length())));
        }
        for (int t : config.dbSchedulerThreads()) {
            rows.add(new Row("db-scheduler", dbSchedulerLabel(t), "lock-and-fetch ×" + t));
        }
        for (String k : st.keySet()) {
            Matcher m = PEER_RATE.matcher(k);
            if (m.matches()) {
                rows.add(new Row(m.group(1), m.group(1) + " " + m.group(2), m.group(2)));
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("Burn-down side by side (one server; medians over the runs):\n\n");
        sb.append("| system | variant | median jobs/s | min | max | runs | server CPU µs/job | client CPU µs/job |\n");
        sb.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row r : rows) {
            Bench.Stats rate = st.get(r.label() + " jobs/s");
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    r.system(),
                    r.variant(),
                    rate == null ? "n/a" : Bench.fmt(rate.median()),
                    rate == null ? "" : Bench.fmt(rate.min()),
                    rate == null ? "" : Bench.fmt(rate.max()),
                    rate == null ? "0" : Integer.toString(rate.n()),
                    median(st, r.label() + " server CPU/job"),
                    median(st, r.label() + " client CPU/job")));
        }
        Row gaffer = best(st, rows, List.of("Gaffer"));
        sb.append("\nRatios of median jobs/s:\n\n");
        List<String> queues = new ArrayList<>();
        if (!config.dbSchedulerThreads().isEmpty()) {
            queues.add("db-scheduler");
        }
        List<String> peers = config.peers() == null ? List.of() : config.peers().names();
        peers.stream().filter(p -> !p.equals("raw SQL")).forEach(queues::add);
        if (!queues.isEmpty()) {
            sb.append(ratio(
                    st,
                    "Gaffer's best, ",
                    gaffer,
                    best(st, rows, queues),
                    "the best peer queue (" + String.join(", ", queues) + ")"));
        }
        for (String q : queues) {
            sb.append(ratio(st, "Gaffer's best, ", gaffer, best(st, rows, List.of(q)), "the best " + q));
        }
        if (peers.contains("raw SQL")) {
            sb.append(ratio(
                    st, "Gaffer's best, ", gaffer, best(st, rows, List.of("raw SQL")), "the raw-SQL limit's best"));
        }
        List<String> absent = new ArrayList<>(Peers.NAMES);
        absent.removeAll(peers);
        if (config.dbSchedulerThreads().isEmpty()) {
            absent.add(0, "db-scheduler");
        }
        if (!absent.isEmpty()) {
            sb.append("- not measured in this run: ")
                    .append(String.join(", ", absent))
                    .append(config.peers() == null ? " (bench/run --peers measures the others)" : "")
                    .append('\n');
        }
        Row one = find(rows, "gaffer 1×64");
        for (String more : List.of("gaffer 2×32", "gaffer 4×16")) {
            Row r = find(rows, more);
            if (r != null && one != null) {
                sb.append(ratio(st, "scaling: ", r, one, ""));
            }
        }
        return sb.toString();
    }

    private static String median(Map<String, Bench.Stats> st, String metric) {
        Bench.Stats s = st.get(metric);
        return s == null ? "n/a" : Bench.fmt(s.median());
    }

    private static Row find(List<Row> rows, String label) {
        return rows.stream().filter(r -> r.label().equals(label)).findFirst().orElse(null);
    }

    /** The row of {@code systems} with the highest median jobs/s, or null if none has a median. */
    private static Row best(Map<String, Bench.Stats> st, List<Row> rows, List<String> systems) {
        Row best = null;
        double rate = -1;
        for (Row r : rows) {
            Bench.Stats s = st.get(r.label() + " jobs/s");
            if (systems.contains(r.system()) && s != null && s.median() > rate) {
                best = r;
                rate = s.median();
            }
        }
        return best;
    }

    /** "- prefix a (x jobs/s) / what, b (y jobs/s): r×", with the server CPU per job of both. */
    private static String ratio(Map<String, Bench.Stats> st, String prefix, Row a, Row b, String what) {
        String left = a == null ? "n/a" : a.label() + " (" + median(st, a.label() + " jobs/s") + " jobs/s)";
        String right = b == null
                ? "n/a (no successful run)"
                : b.label() + " (" + median(st, b.label() + " jobs/s") + " jobs/s)";
        String value = "n/a";
        String cpu = "";
        Bench.Stats sa = a == null ? null : st.get(a.label() + " jobs/s");
        Bench.Stats sb = b == null ? null : st.get(b.label() + " jobs/s");
        if (sa != null && sb != null) {
            value = String.format(Locale.ROOT, "**%.2f×**", sa.median() / sb.median());
            cpu = "; server CPU/job " + median(st, a.label() + " server CPU/job") + " vs "
                    + median(st, b.label() + " server CPU/job") + " µs";
        }
        return "- " + prefix + left + " / " + (what.isEmpty() ? "" : what + ", ") + right + ": " + value + cpu + "\n";
    }

    private double gaffer(Context ctx, Variant v, Measurements out) throws Exception {
        String dbName = ctx.database("burndown_g" + v.processes() + "x" + v.concurrency());
        ctx.db().create(dbName);
        List<Process> workers = new ArrayList<>();
        try (Connection c = ctx.db().connect(dbName)) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < v.processes(); i++) {
                String name = "burn-" + i;
                names.add(name);
                workers.add(ctx.children()
                        .worker(
                                "burndown-" + v.processes() + "x" + v.concurrency() + "-" + i + "-run" + ctx.run(),
                                Jobs.workerEnv(ctx.db().url(dbName), name, v.concurrency())));
            }
            Jobs.awaitWorkers(c, names, Duration.ofSeconds(60));
            double cold = warmUp(c, v);
            out.put(v.label() + " cold jobs/s (first " + Bench.fmt(config.warmUp()) + ", fresh JVM)", cold, "jobs/s");
            // A clean queue, as after the first drain and autovacuum: the warm-up rows go.
            Jobs.exec(c, "DELETE FROM jobs");
            Jobs.exec(c, "VACUUM (ANALYZE) jobs, job_events");
            // Before the insert: the workers poll, and may finish jobs before the hint below.
            long mark = Jobs.finishedMark(c);
            Jobs.insertApproved(c, config.jobs(), "noop", "{}");
            Jobs.exec(c, "ANALYZE jobs");
            long pg = ctx.db().postmasterPid();
            Map<String, Double> before = Jobs.serverCounters(c);
            double pgCpu0 = Procfs.serverCpuSeconds(pg);
            double jvmCpu0 = workers.stream()
                    .mapToDouble(p -> Procfs.cpuSeconds(p.pid()))
                    .sum();
            Jobs.resetStatements(c);
            double t0 = Jobs.clock(c);
            Jobs.hint(c);
            while (!Jobs.drained(c)) {
                for (Process p : workers) {
                    if (!p.isAlive()) {
                        throw new IllegalStateException("a worker exited early; see its log");
                    }
                }
                // Once a second: the probe reads both partial indexes, dead entries and all, and
                // is the bench's own load on the server it measures. The rate comes from the
                // jobs' timestamps, so a late look costs nothing but the wait.
                Thread.sleep(1000);
            }
            double pgCpu = Procfs.serverCpuSeconds(pg) - pgCpu0;
            double jvmCpu = workers.stream()
                            .mapToDouble(p -> Procfs.cpuSeconds(p.pid()))
                            .sum()
                    - jvmCpu0;
            double rss = workers.stream()
                    .mapToDouble(p -> Procfs.peakRssMiB(p.pid()))
                    .max()
                    .orElse(Double.NaN);
            Thread.sleep(1500); // let the backends flush their statistics
            Map<String, Double> after = Jobs.serverCounters(c);
            Jobs.topStatements(c, 6).forEach(line -> out.note(v.label() + ": " + line));
            Jobs.Window w = Jobs.window(c, t0 - 1, mark);
            if (w.completed() != config.jobs()) {
                throw new IllegalStateException(
                        v.label() + ": " + w.completed() + " of " + config.jobs() + " completed");
            }
            long dup = Jobs.count(
                    c,
                    "SELECT count(*) FROM (SELECT job_id FROM job_history WHERE kind = 'completed'"
                            + " GROUP BY job_id HAVING count(*) > 1) d");
            double n = config.jobs();
            out.put(v.label() + " jobs/s", w.perSecond(), "jobs/s");
            out.put(v.label() + " commits/job", (after.get("commits") - before.get("commits")) / n, "");
            out.put(v.label() + " WAL/job", (after.get("wal") - before.get("wal")) / n, "bytes");
            out.put(v.label() + " PostgreSQL CPU/1k jobs", pgCpu * 1000 / n, "s");
            out.put(v.label() + " worker JVM CPU/1k jobs", jvmCpu * 1000 / n, "s");
            out.put(v.label() + " server CPU/job", pgCpu * 1e6 / n, "µs");
            out.put(v.label() + " client CPU/job", jvmCpu * 1e6 / n, "µs");
            out.put(v.label() + " worker peak RSS", rss, "MiB");
            out.put(v.label() + " duplicate completions", dup, "", Measurements.Target.atMost(0, "0"));
            return w.perSecond();
        } finally {
            workers.forEach(p -> Children.stop(p, Duration.ofSeconds(20)));
            ctx.db().drop(dbName);
        }
    }

    /** Drains the warm-up jobs; returns their rate (jobs/s), the figure of a cold JVM. */
    private double warmUp(Connection c, Variant v) throws Exception {
        long mark = Jobs.finishedMark(c);
        Jobs.insertApproved(c, config.warmUp(), "noop", "{}");
        double t0 = Jobs.clock(c);
        Jobs.hint(c);
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!Jobs.drained(c)) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException(v.label() + ": the warm-up did not drain within 3 minutes");
            }
            Thread.sleep(100);
        }
        Jobs.Window w = Jobs.window(c, t0 - 1, mark);
        if (w.completed() != config.warmUp()) {
            throw new IllegalStateException(
                    v.label() + ": " + w.completed() + " of " + config.warmUp() + " warm-up jobs completed");
        }
        return w.perSecond();
    }

    private double dbScheduler(Context ctx, int threads, Measurements out) throws Exception {
        String dbName = ctx.database("burndown_dbs" + threads);
        String label = dbSchedulerLabel(threads);
        ctx.db().create(dbName);
        Process p = null;
        try (Connection c = ctx.db().connect(dbName)) {
            insertExecutions(c, "warm-", config.warmUp());
            String log = "burndown-dbs" + threads + "-run" + ctx.run();
            p = ctx.children()
                    .benchMain(
                            log,
                            DbSchedulerDrain.class,
                            List.of(
                                    ctx.db().jdbcUrl(dbName),
                                    ctx.db().user(),
                                    ctx.db().password() == null ? "-" : ctx.db().password(),
                                    Integer.toString(config.jobs()),
                                    Integer.toString(config.warmUp()),
                                    Integer.toString(threads),
                                    "0.5",
                                    "3.0",
                                    Long.toString(config.deadline().toSeconds())),
                            List.of());
            // The process drains the warm-up executions, then waits for the measured ones.
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (Jobs.count(c, "SELECT count(*) FROM scheduled_tasks") > 0) {
                if (!p.isAlive() || System.nanoTime() > end) {
                    throw new IllegalStateException(label + ": the warm-up did not drain; see "
                            + ctx.children().log(log));
                }
                Thread.sleep(100);
            }
            Jobs.exec(c, "VACUUM (ANALYZE) scheduled_tasks");
            long pg = ctx.db().postmasterPid();
            insertExecutions(c, "run-", config.jobs());
            Map<String, Double> before = Jobs.serverCounters(c);
            double pgCpu0 = Procfs.serverCpuSeconds(pg);
            p.waitFor();
            double pgCpu = Procfs.serverCpuSeconds(pg) - pgCpu0;
            Thread.sleep(1500);
            Map<String, Double> after = Jobs.serverCounters(c);
            Matcher m = RESULT.matcher(Files.readString(ctx.children().log(log)));
            if (!m.find() || !Boolean.parseBoolean(m.group(5))) {
                throw new IllegalStateException(
                        label + " did not finish; see " + ctx.children().log(log));
            }
            long left = Jobs.count(c, "SELECT count(*) FROM scheduled_tasks");
            if (left != 0) {
                throw new IllegalStateException(label + " left " + left + " executions in the table");
            }
            double n = config.jobs();
            double rate = Integer.parseInt(m.group(1)) / Double.parseDouble(m.group(2));
            Matcher warm = WARM.matcher(Files.readString(ctx.children().log(log)));
            if (warm.find()) {
                out.put(
                        label + " cold jobs/s (first " + Bench.fmt(config.warmUp()) + ", fresh JVM)",
                        Integer.parseInt(warm.group(1)) / Double.parseDouble(warm.group(2)),
                        "jobs/s");
            }
            out.put(label + " jobs/s", rate, "jobs/s");
            out.put(label + " commits/job", (after.get("commits") - before.get("commits")) / n, "");
            out.put(label + " WAL/job", (after.get("wal") - before.get("wal")) / n, "bytes");
            out.put(label + " PostgreSQL CPU/1k jobs", pgCpu * 1000 / n, "s");
            out.put(label + " JVM CPU/1k jobs", Double.parseDouble(m.group(3)) * 1000 / n, "s");
            out.put(label + " server CPU/job", pgCpu * 1e6 / n, "µs");
            out.put(label + " client CPU/job", Double.parseDouble(m.group(3)) * 1e6 / n, "µs");
            out.put(label + " peak RSS", Double.parseDouble(m.group(4)), "MiB");
            return rate;
        } finally {
            if (p != null) {
                Children.kill(p);
            }
            ctx.db().drop(dbName);
        }
    }

    /** One-time executions of the task "noop", due now, named {@code prefix + i}. */
    private static void insertExecutions(Connection c, String prefix, int n) throws java.sql.SQLException {
        Jobs.exec(
                c,
                "INSERT INTO scheduled_tasks (task_name, task_instance, execution_time, picked, version)"
                        + " SELECT 'noop', '" + prefix + "' || i, now(), false, 1 FROM generate_series(1, " + n
                        + ") i");
        Jobs.exec(c, "ANALYZE scheduled_tasks");
    }
}
