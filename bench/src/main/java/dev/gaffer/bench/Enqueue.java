package dev.gaffer.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gaffer.client.JobRequest;
import dev.gaffer.client.Jobs;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Creating jobs from an application, in its own transaction ({@link Jobs}): {@code batch} jobs
 * (each with its own small parameters) in one {@link Jobs#insertAll} call and one commit,
 * repeated {@code repeats} times on a fresh database; and, for contrast, {@code singles} jobs
 * inserted one call at a time in one transaction. Timed from the call to the end of the commit,
 * on the bench's own connection; the figure of a run is the median of its repeats.
 */
final class Enqueue implements Scenario {

    record Config(int batch, int repeats, int singles, Duration deadline) {
        static Config of(boolean quick) {
            return new Config(10_000, quick ? 3 : 7, quick ? 500 : 2_000, Duration.ofMinutes(quick ? 3 : 10));
        }
    }

    private final Config config;

    Enqueue(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "enqueue";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        out.note("enqueue: " + config.batch() + " jobs per insertAll and commit, median of " + config.repeats() + "; "
                + config.singles() + " single inserts in one transaction");
        String dbName = ctx.database("enqueue");
        ctx.db().create(dbName);
        Jobs jobs = new Jobs();
        try (Connection c = ctx.db().connect(dbName)) {
            c.setAutoCommit(false);
            // One warm-up call, not counted: the JIT and the server's plan caches.
            jobs.insertAll(c, requests("warmup", 1_000));
            c.commit();
            List<Double> batchMs = new ArrayList<>();
            for (int r = 0; r < config.repeats(); r++) {
                List<JobRequest> batch = requests("batch" + r, config.batch());
                long t0 = System.nanoTime();
                int n = jobs.insertAll(c, batch).size();
                c.commit();
                batchMs.add((System.nanoTime() - t0) / 1e6);
                if (n != config.batch()) {
                    throw new IllegalStateException(n + " of " + config.batch() + " jobs created");
                }
            }
            double median = new Percentiles(batchMs).p(50);
            out.put(
                    "insertAll of " + config.batch() + " jobs + commit",
                    median,
                    "ms",
                    Measurements.Target.atMost(1000, "well under a second"));
            out.put("insertAll: jobs/s", config.batch() / (median / 1e3), "jobs/s");

            List<JobRequest> singles = requests("single", config.singles());
            long t0 = System.nanoTime();
            for (JobRequest r : singles) {
                jobs.insert(c, r);
            }
            c.commit();
            double perJob = (System.nanoTime() - t0) / 1e3 / config.singles();
            out.put("insert one at a time, per job", perJob, "µs");
        } finally {
            ctx.db().drop(dbName);
        }
    }

    private static List<JobRequest> requests(String queue, int n) {
        List<JobRequest> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(JobRequest.of(
                            "noop",
                            JsonNodeFactory.instance
                                    .objectNode()
                                    .put("order", i)
                                    .put("customer", "c-" + (i % 97)))
                    .withQueue(queue)
                    .approvedBy("bench"));
        }
        return out;
    }
}
