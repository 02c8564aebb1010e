package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.testing.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Several workers on one database, each with its own pool, racing for the same jobs. */
class ClusterTest {

    static final int WORKERS = 4;
    static final int CONCURRENCY = 16;
    static final int JOBS = 10_000;

    @Test
    void fourWorkersAtConcurrency16DrainTenThousandJobsEachRunningExactlyOnce() {
        Map<Long, AtomicInteger> invocations = new ConcurrentHashMap<>();
        Map<Long, String> ranOn = new ConcurrentHashMap<>();
        try (Database db = TestPostgres.freshDatabase("cluster", 4)) {
            JobFixtures fixtures = new JobFixtures(db);
            List<Long> ids = fixtures.approvedBulk("record", JOBS);
            List<Database> pools = new ArrayList<>();
            List<Worker> workers = new ArrayList<>();
            try {
                for (int i = 0; i < WORKERS; i++) {
                    Database pool = TestSupport.openAnother(db, CONCURRENCY + 4);
                    pools.add(pool);
                    String name = "cluster-" + i;
                    HandlerRegistry registry = new HandlerRegistry().register("record", ctx -> {
                        invocations
                                .computeIfAbsent(ctx.jobId(), id -> new AtomicInteger())
                                .incrementAndGet();
                        ranOn.put(ctx.jobId(), name);
                        return Outcome.complete(null);
                    });
                    WorkerConfig config = TestSupport.config(name)
                            .withConcurrency(CONCURRENCY)
                            // the maintenance runs for real: it must find nothing to reclaim
                            .withMaintenance(i == 0, Duration.ofSeconds(1));
                    workers.add(new Worker(config, pool, registry));
                }
                workers.forEach(Worker::start);
                await(
                        "all " + JOBS + " jobs completed",
                        Duration.ofSeconds(120),
                        () -> fixtures.count("SELECT count(*) FROM jobs WHERE status = 'completed'") == JOBS);
            } finally {
                workers.forEach(w -> w.shutdown(Duration.ofSeconds(5)));
                pools.forEach(Database::close);
            }

            assertThat(invocations).hasSize(JOBS);
            assertThat(invocations.keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(invocations.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
            assertThat(fixtures.count("SELECT count(*) FROM jobs WHERE status <> 'completed'"))
                    .isZero();
            assertThat(fixtures.count("SELECT count(*) FROM jobs WHERE attempt <> 1"))
                    .isZero();
            assertThat(fixtures.count("SELECT count(*) FROM job_history WHERE kind = 'reclaimed'"))
                    .isZero();
            assertThat(fixtures.count("SELECT count(*) FROM job_history WHERE kind = 'completed'"))
                    .isEqualTo(JOBS);
            // every worker took part
            assertThat(new java.util.HashSet<>(ranOn.values())).hasSize(WORKERS);
            long completed =
                    workers.stream().mapToLong(w -> w.stats().completed()).sum();
            assertThat(completed).isEqualTo(JOBS);
            assertThat(workers.stream().mapToLong(w -> w.stats().discarded()).sum())
                    .isZero();
        }
    }
}
