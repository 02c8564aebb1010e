package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.approve;
import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ShutdownTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("shutdown");

    @Test
    void gracefulShutdownReleasesUnfinishedJobsWithoutUsingAnAttempt() {
        AtomicInteger interrupted = new AtomicInteger();
        HandlerRegistry registry = new HandlerRegistry().register("long", ctx -> {
            try {
                Thread.sleep(Duration.ofMinutes(5));
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
            }
            return Outcome.complete(null);
        });
        Worker w = new Worker(
                        TestSupport.config("shutdown").withQueues(List.of("long"), java.util.Map.of()),
                        db.database(),
                        registry)
                .start();
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jobs.add(approve(db.requests(), NewJob.of("long", null).withQueue("long")));
        }
        await("all three running", () -> w.runningCount() == 3);

        int released = w.shutdown(Duration.ofMillis(300));

        assertThat(released).isEqualTo(3);
        assertThat(interrupted.get()).isEqualTo(3);
        for (Job job : jobs) {
            Job after = db.queries().find(job.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(after.attempt()).isZero();
            assertThat(after.lockedBy()).isNull();
            assertThat(db.fixtures().eventKinds(job.id())).endsWith("approved", "released");
        }
        assertThat(w.stats().discarded()).isEqualTo(3);
        assertThat(new WorkerStore(db.dataSource()).find(w.id())).isEmpty();
    }

    @Test
    void shutdownWaitsForHandlersThatFinishWithinTheGracePeriod() {
        Worker w = new Worker(
                        TestSupport.config("patient").withQueues(List.of("patient"), java.util.Map.of()),
                        db.database(),
                        HandlerRegistry.discover())
                .start();
        Job job = approve(
                db.requests(), NewJob.of("sleep", JobFixtures.params("ms", 500)).withQueue("patient"));
        await("running", () -> w.runningCount() == 1);

        assertThat(w.shutdown(Duration.ofSeconds(20))).isZero();

        assertThat(db.queries().find(job.id()).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
    }
}
