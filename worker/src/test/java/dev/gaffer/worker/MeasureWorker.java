package dev.gaffer.worker;

import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.NewJob;
import dev.gaffer.testing.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Measurements for the worker, as a plain program (not a test): no-op throughput of one worker
 * process at two concurrencies, and approve→handler-start latency with LISTEN and poll-only.
 * Bounded: every wait has a deadline. Runs on the test PostgreSQL (embedded unless
 * GAFFER_TEST_DATABASE_URL says otherwise).
 *
 * <p>Latency samples are taken one at a time with the worker idle: each job is approved only
 * after the previous one finished, at a random point of the poll cycle.
 *
 * <p>Arguments (all optional): jobs (20000), latency samples with LISTEN (300), latency samples
 * poll-only (100), poll interval in ms for poll-only (1000).
 */
public final class MeasureWorker {

    private static final Duration DRAIN_DEADLINE = Duration.ofMinutes(10);
    private static final Duration PICKUP_DEADLINE = Duration.ofSeconds(30);

    private MeasureWorker() {}

    public static void main(String[] args) throws Exception {
        int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int listenSamples = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        int pollSamples = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        long pollMs = args.length > 3 ? Long.parseLong(args[3]) : 1000;

        List<String> report = new ArrayList<>();
        report.add("cores: " + Runtime.getRuntime().availableProcessors() + ", java " + Runtime.version());
        for (int concurrency : new int[] {16, 64}) {
            report.add(throughput(jobs, concurrency));
        }
        report.add(latency("LISTEN (poll " + pollMs + " ms as fallback)", listenSamples, true, pollMs));
        report.add(latency("poll-only, poll every " + pollMs + " ms", pollSamples, false, pollMs));
        System.out.println();
        System.out.println("=== worker measurements ===");
        report.forEach(System.out::println);
        System.exit(0);
    }

    static String throughput(int jobs, int concurrency) throws Exception {
        try (Database db = TestPostgres.freshDatabase("measure_c" + concurrency, 4);
                Database pool = TestSupport.openAnother(db, Math.min(concurrency + 4, 50))) {
            JobFixtures fixtures = new JobFixtures(db);
            fixtures.approvedBulk("noop", jobs);
            fixtures.exec("VACUUM ANALYZE jobs");
            WorkerConfig config = WorkerConfig.defaults().withName("measure").withConcurrency(concurrency);
            Worker worker = new Worker(config, pool, HandlerRegistry.discover());
            long t0 = System.nanoTime();
            worker.start();
            long end = t0 + DRAIN_DEADLINE.toNanos();
            while (fixtures.count("SELECT count(*) FROM jobs WHERE status = 'completed'") < jobs) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("not drained within " + DRAIN_DEADLINE);
                }
                Thread.sleep(20);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            WorkerStats.Snapshot s = worker.stats();
            worker.shutdown(Duration.ofSeconds(5));
            return String.format(
                    "throughput: %d noop jobs, 1 worker, concurrency %d: %.2f s = %.0f jobs/s"
                            + " (%d claim statements, %.1f jobs per claim)",
                    jobs,
                    concurrency,
                    seconds,
                    jobs / seconds,
                    s.claimStatements(),
                    (double) s.claimed() / Math.max(1, s.claimStatements()));
        }
    }

    static String latency(String label, int samples, boolean listen, long pollMs) throws Exception {
        BlockingQueue<long[]> started = new LinkedBlockingQueue<>();
        HandlerRegistry registry = new HandlerRegistry().register("probe", ctx -> {
            started.add(new long[] {ctx.jobId(), System.nanoTime()});
            return Outcome.complete(null);
        });
        try (Database db = TestPostgres.freshDatabase("measure_latency_" + listen);
                Database pool = TestSupport.openAnother(db, 20)) {
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            WorkerConfig config =
                    WorkerConfig.defaults().withName("latency").withPolling(Duration.ofMillis(pollMs), listen);
            Worker worker = new Worker(config, pool, registry).start();
            if (listen) {
                long end = System.nanoTime() + PICKUP_DEADLINE.toNanos();
                while (!worker.listener().isListening() && System.nanoTime() < end) {
                    Thread.sleep(10);
                }
            }
            Thread.sleep(500);
            List<Double> millis = new ArrayList<>();
            for (int i = 0; i < samples; i++) {
                Job pending = requests.create(NewJob.of("probe", null)).job();
                long t0 = System.nanoTime();
                requests.approve(pending.id(), "measure");
                long[] s = started.poll(PICKUP_DEADLINE.toSeconds(), TimeUnit.SECONDS);
                if (s == null || s[0] != pending.id()) {
                    throw new IllegalStateException("job " + pending.id() + " not started in time: " + s);
                }
                millis.add((s[1] - t0) / 1e6);
                // Let the worker go idle (job finished, the wake-up of its freed slot spent), then
                // approve the next one at a random point of the poll cycle.
                long end = System.nanoTime() + PICKUP_DEADLINE.toNanos();
                while (!queries.find(pending.id()).orElseThrow().status().isTerminal() && System.nanoTime() < end) {
                    Thread.sleep(2);
                }
                long jitterMs = listen ? 50 : pollMs;
                Thread.sleep(
                        50 + java.util.concurrent.ThreadLocalRandom.current().nextLong(jitterMs));
            }
            worker.shutdown(Duration.ofSeconds(5));
            Collections.sort(millis);
            return String.format(
                    "approve→start latency, %s, %d sequential jobs: p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                    label, samples, pct(millis, 50), pct(millis, 99), millis.getLast());
        }
    }

    static double pct(List<Double> sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
