package dev.gaffer.bench;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Memory: peak RSS (VmHWM) of a real worker process at concurrency 64 while it drains no-op jobs
 * and then sleep jobs that keep all 64 slots busy, and of a real API process under the load of
 * the API scenario. Both run as {@code java -jar gaffer.jar} with the JVM's default heap sizing.
 */
final class Memory implements Scenario {

    record Config(int noopJobs, int sleepJobs, int sleepMs, int concurrency, Duration deadline) {
        static Config of(boolean quick) {
            return quick
                    ? new Config(10_000, 640, 100, 64, Duration.ofMinutes(4))
                    : new Config(50_000, 3_200, 100, 64, Duration.ofMinutes(8));
        }
    }

    private final Config config;

    Memory(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        String dbName = ctx.database("memory");
        ctx.db().create(dbName);
        try {
            // As Gaffer runs it (the launcher's JVM defaults), then as plain `java -jar` would.
            worker(ctx, dbName, true, "gaffer launcher", out);
            worker(ctx, dbName, false, "plain java -jar, JVM defaults", out);
            ApiLoad.Result r = ApiLoad.load(ctx, dbName, ApiLoad.Config.of(ctx.quick()), "memory-api-run" + ctx.run());
            out.put("API peak RSS under wrk", r.peakRssMiB(), "MiB");
            out.put("(API requests/s meanwhile)", r.requestsPerSecond(), "req/s");
        } finally {
            ctx.db().drop(dbName);
        }
    }

    private void worker(Context ctx, String dbName, boolean launcher, String label, Measurements out) throws Exception {
        Process worker = null;
        try (Connection c = ctx.db().connect(dbName)) {
            Jobs.exec(c, "DELETE FROM workers");
            String log = "memory-worker-" + (launcher ? "launcher" : "plain-java") + "-run" + ctx.run();
            Map<String, String> env = Jobs.workerEnv(ctx.db().url(dbName), "memory", config.concurrency());
            worker = launcher ? ctx.children().worker(log, env) : ctx.children().plainJavaWorker(log, env);
            Jobs.awaitWorkers(c, List.of("memory"), Duration.ofSeconds(60));
            Jobs.insertApproved(c, config.noopJobs(), "noop", "{}");
            Jobs.insertApproved(c, config.sleepJobs(), "sleep", "{\"ms\": " + config.sleepMs() + "}");
            Jobs.hint(c);
            long started = System.nanoTime();
            long end = started + Duration.ofMinutes(5).toNanos();
            while (!Jobs.drained(c)) {
                if (!worker.isAlive() || System.nanoTime() > end) {
                    throw new IllegalStateException("the memory worker died or did not drain; see its log");
                }
                Thread.sleep(250);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.put(
                    "worker ×" + config.concurrency() + " peak RSS, " + label,
                    Procfs.peakRssMiB(worker.pid()),
                    "MiB",
                    launcher ? Measurements.Target.atMost(256, "< 256 MiB") : null);
            out.put("(its drain time, " + label + ")", seconds, "s");
            out.note("worker (" + label + ") drained " + config.noopJobs() + " no-op and " + config.sleepJobs()
                    + " sleep(" + config.sleepMs() + " ms) jobs");
        } finally {
            if (worker != null) {
                Children.stop(worker, Duration.ofSeconds(20));
            }
        }
    }
}
