package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.SubJob;
import dev.gaffer.testing.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Fan-out and fan-in with real workers: children finishing at the same moment on different workers. */
class FanInClusterTest {

    static final int CHILDREN = 200;

    @Test
    void twoHundredChildrenFinishingTogetherOnFourWorkersResumeTheParentExactlyOnce() throws Exception {
        AtomicInteger parentRuns = new AtomicInteger();
        AtomicInteger resumedRuns = new AtomicInteger();
        AtomicInteger childRuns = new AtomicInteger();
        // Every child waits at this gate until all 200 are running, so that they finish together.
        CountDownLatch allRunning = new CountDownLatch(CHILDREN);
        try (Database db = TestPostgres.freshDatabase("fan_in_cluster", 4)) {
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            JobFixtures fixtures = new JobFixtures(db);
            List<Database> pools = new ArrayList<>();
            List<Worker> workers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    Database pool = TestSupport.openAnother(db, 60);
                    pools.add(pool);
                    HandlerRegistry registry = new HandlerRegistry()
                            .register("parent", ctx -> {
                                parentRuns.incrementAndGet();
                                if ("merge".equals(ctx.stage())) {
                                    resumedRuns.incrementAndGet();
                                    long done = ctx.subJobs().stream()
                                            .filter(j -> j.status() == JobStatus.COMPLETED)
                                            .count();
                                    return Outcome.complete(JsonNodeFactory.instance
                                            .objectNode()
                                            .put("children", done));
                                }
                                return Outcome.waitFor(
                                        IntStream.range(0, CHILDREN)
                                                .mapToObj(n -> SubJob.of(
                                                        "child",
                                                        JsonNodeFactory.instance
                                                                .objectNode()
                                                                .put("n", n)))
                                                .toList(),
                                        "fan-out",
                                        "merge");
                            })
                            .register("child", ctx -> {
                                childRuns.incrementAndGet();
                                allRunning.countDown();
                                allRunning.await(60, TimeUnit.SECONDS);
                                return Outcome.complete(null);
                            });
                    workers.add(new Worker(TestSupport.config("fan-" + i).withConcurrency(60), pool, registry));
                }
                workers.forEach(Worker::start);
                Job parent = requests.create(NewJob.of("parent", null)).job();
                requests.approve(parent.id(), "tester");
                await(
                        "the parent completed",
                        Duration.ofSeconds(120),
                        () -> queries.find(parent.id()).orElseThrow().status() == JobStatus.COMPLETED);

                Job done = queries.find(parent.id()).orElseThrow();
                assertThat(done.result().get("children").asInt()).isEqualTo(CHILDREN);
                assertThat(parentRuns.get()).isEqualTo(2);
                assertThat(resumedRuns.get()).isEqualTo(1);
                assertThat(childRuns.get()).isEqualTo(CHILDREN);
                assertThat(fixtures.count("SELECT count(*) FROM job_history WHERE job_id = " + parent.id()
                                + " AND kind = 'resumed'"))
                        .isEqualTo(1);
                // The children really ran on several workers.
                assertThat(fixtures.count("SELECT count(DISTINCT worker_id) FROM job_history WHERE kind = 'completed'"
                                + " AND job_id IN (SELECT id FROM jobs WHERE parent_id = " + parent.id() + ")"))
                        .isGreaterThan(1);
            } finally {
                workers.forEach(w -> w.shutdown(Duration.ofSeconds(5)));
                pools.forEach(Database::close);
            }
        }
    }
}
