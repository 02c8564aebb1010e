package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.approve;
import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.SubJob;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class WorkerBasicsTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("worker_basics");

    @Test
    void builtInHandlersAreDiscoveredThroughServiceLoader() {
        assertThat(HandlerRegistry.discover().types()).contains("noop", "sleep");
    }

    @Test
    void completesNoopAndSleepJobsAndRegistersItself() {
        try (Worker w = new Worker(TestSupport.config("basics"), db.database(), HandlerRegistry.discover()).start()) {
            assertThat(new WorkerStore(db.dataSource()).list()).anySatisfy(row -> {
                assertThat(row.id()).isEqualTo(w.id());
                assertThat(row.name()).isEqualTo("basics");
                assertThat(row.queues()).containsExactly("default");
                assertThat(row.concurrency()).isEqualTo(16);
                assertThat(row.pid()).isEqualTo(ProcessHandle.current().pid());
            });
            Job noop = approve(db.requests(), NewJob.of("noop", null));
            Job sleep = approve(db.requests(), NewJob.of("sleep", JobFixtures.params("ms", 300)));
            await(
                    "both complete",
                    () -> status(noop.id()) == JobStatus.COMPLETED && status(sleep.id()) == JobStatus.COMPLETED);
            assertThat(db.queries()
                            .find(sleep.id())
                            .orElseThrow()
                            .result()
                            .get("slept_ms")
                            .asLong())
                    .isEqualTo(300);
        }
        assertThat(new WorkerStore(db.dataSource()).list())
                .noneMatch(r -> r.name().equals("basics"));
    }

    @Test
    void progressIsCoalescedIntoTheHeartbeatAndVisibleWithinAnInterval() throws Exception {
        CountDownLatch reported = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HandlerRegistry registry = new HandlerRegistry().register("chatty", ctx -> {
            for (int i = 0; i <= 40; i++) {
                ctx.progress(i, "step " + i);
            }
            reported.countDown();
            release.await();
            return Outcome.complete(null);
        });
        try (Worker w = new Worker(TestSupport.config("chatty"), db.database(), registry).start()) {
            Job job = approve(db.requests(), NewJob.of("chatty", null));
            assertThat(reported.await(30, TimeUnit.SECONDS)).isTrue();
            await("progress 40 visible", () -> {
                Job j = db.queries().find(job.id()).orElseThrow();
                return j.progressPercentage() == 40 && "step 40".equals(j.currentStage());
            });
            // 41 calls, but only the latest value rides on a heartbeat: very few progress events.
            long progressEvents = db.fixtures().eventKinds(job.id()).stream()
                    .filter("progress"::equals)
                    .count();
            assertThat(progressEvents).isBetween(1L, 3L);
            release.countDown();
            await("completed", () -> status(job.id()) == JobStatus.COMPLETED);
        }
    }

    @Test
    void aHandlerSpawnsSubJobsWaitsAndResumesAtTheNamedStage() {
        HandlerRegistry registry = HandlerRegistry.discover().register("parent", ctx -> {
            if (ctx.stage() == null) {
                return ctx.spawnAndWait(
                        List.of(SubJob.of("noop", null), SubJob.of("noop", null), SubJob.of("noop", null)),
                        "rendering",
                        "stitching");
            }
            assertThat(ctx.stage()).isEqualTo("stitching");
            long done = ctx.subJobs().stream()
                    .filter(j -> j.status() == JobStatus.COMPLETED)
                    .count();
            return Outcome.complete(JobFixtures.params("children", done));
        });
        try (Worker w = new Worker(TestSupport.config("parent"), db.database(), registry).start()) {
            Job parent = approve(db.requests(), NewJob.of("parent", null));
            await("parent completed", () -> status(parent.id()) == JobStatus.COMPLETED);
            Job done = db.queries().find(parent.id()).orElseThrow();
            assertThat(done.result().get("children").asInt()).isEqualTo(3);
            assertThat(done.attempt()).isEqualTo(1);
            assertThat(db.fixtures().eventKinds(parent.id())).contains("waiting", "resumed", "completed");
        }
    }

    @Test
    void cancellingAJobInterruptsItsHandlerAndDiscardsItsOutcome() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicBoolean flagSeen = new AtomicBoolean();
        HandlerRegistry registry = new HandlerRegistry().register("stubborn", ctx -> {
            started.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(1));
            } catch (InterruptedException e) {
                interrupted.set(true);
                flagSeen.set(ctx.isCancelled());
            }
            return Outcome.complete(JobFixtures.params("late", true));
        });
        try (Worker w = new Worker(TestSupport.config("cancel"), db.database(), registry).start()) {
            Job job = approve(db.requests(), NewJob.of("stubborn", null));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            db.requests().cancel(job.id(), "tester");
            await("handler interrupted", interrupted::get);
            await("outcome discarded", () -> w.stats().discarded() == 1);
            assertThat(flagSeen).isTrue();
            Job after = db.queries().find(job.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.CANCELLED);
            assertThat(after.result()).isNull();
        }
    }

    @Test
    void aJobRunningPastItsTimeoutIsInterruptedAndFailedAsRetryable() {
        try (Worker w = new Worker(TestSupport.config("timeout"), db.database(), HandlerRegistry.discover()).start()) {
            Job job = approve(
                    db.requests(),
                    NewJob.of("sleep", JobFixtures.json("{\"ms\": 60000, \"timeout_ms\": 300}"))
                            .withMaxAttempts(1));
            await("failed", () -> status(job.id()) == JobStatus.FAILED);
            assertThat(db.queries().find(job.id()).orElseThrow().lastError()).startsWith("timed out after 300 ms");
            assertThat(w.stats().timedOut()).isEqualTo(1);
        }
    }

    @Test
    void aTimeoutShorterThanTheHeartbeatIntervalIsEnforcedByItsOwnTimer() {
        // Beats every 5 s: a timeout checked at the beat would let this 2 s sleep complete.
        WorkerConfig config =
                TestSupport.config("short-timeout").withHeartbeat(Duration.ofSeconds(5), Duration.ofSeconds(15));
        try (Worker w = new Worker(config, db.database(), HandlerRegistry.discover()).start()) {
            Job job = approve(
                    db.requests(),
                    NewJob.of("sleep", JobFixtures.json("{\"ms\": 2000, \"timeout_ms\": 50}"))
                            .withMaxAttempts(1));
            await("failed", Duration.ofSeconds(4), () -> status(job.id()) == JobStatus.FAILED);
            assertThat(db.queries().find(job.id()).orElseThrow().lastError()).startsWith("timed out after 50 ms");
            assertThat(w.stats().timedOut()).isEqualTo(1);
        }
    }

    @Test
    void aShortTimeoutThatStartsAfterALongOneIsEnforcedOnTimeNotAtTheLongOnesDeadline() {
        // The timeout thread sleeps until the earliest deadline it knows: the 60 s run's. The
        // 50 ms run that starts later must wake it, or it would run its whole 2 s.
        WorkerConfig config =
                TestSupport.config("earlier-deadline").withHeartbeat(Duration.ofSeconds(5), Duration.ofSeconds(15));
        try (Worker w = new Worker(config, db.database(), HandlerRegistry.discover()).start()) {
            Job longOne = approve(
                    db.requests(),
                    NewJob.of("sleep", JobFixtures.json("{\"ms\": 60000, \"timeout_ms\": 60000}"))
                            .withMaxAttempts(1));
            await("the long one runs", () -> status(longOne.id()) == JobStatus.PROCESSING);
            Job shortOne = approve(
                    db.requests(),
                    NewJob.of("sleep", JobFixtures.json("{\"ms\": 2000, \"timeout_ms\": 50}"))
                            .withMaxAttempts(1));
            await("the short one failed", Duration.ofSeconds(4), () -> status(shortOne.id()) == JobStatus.FAILED);
            assertThat(db.queries().find(shortOne.id()).orElseThrow().lastError())
                    .startsWith("timed out after 50 ms");
            assertThat(status(longOne.id())).isEqualTo(JobStatus.PROCESSING);
            assertThat(w.stats().timedOut()).isEqualTo(1);
            w.shutdown(Duration.ofMillis(100));
        }
    }

    @Test
    void aPoisonJobInAClaimBatchFailsAloneAndTheOthersRunOnce() {
        // Written past the API (which refuses it): a timeout that overflows a long of nanoseconds.
        List<Long> ids = db.fixtures().approvedBulk("noop", 8);
        long poison = ids.get(3);
        db.fixtures().exec("UPDATE jobs SET parameters = '{\"timeout_ms\": 10000000000000}' WHERE id = " + poison);
        try (Worker w = new Worker(
                        TestSupport.config("poison").withConcurrency(8), db.database(), HandlerRegistry.discover())
                .start()) {
            await(
                    "all finished",
                    () -> ids.stream()
                            .allMatch(id ->
                                    db.queries().find(id).orElseThrow().status().isTerminal()));
            Job failed = db.queries().find(poison).orElseThrow();
            assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
            assertThat(failed.attempt())
                    .as("failed at once, on its first claim")
                    .isEqualTo(1);
            assertThat(failed.lastError()).contains("parameters.timeout_ms");
            for (long id : ids) {
                if (id != poison) {
                    Job j = db.queries().find(id).orElseThrow();
                    assertThat(j.status()).as("job %d", id).isEqualTo(JobStatus.COMPLETED);
                    assertThat(j.attempt()).as("job %d ran once", id).isEqualTo(1);
                }
            }
            assertThat(db.fixtures()
                            .count("SELECT count(*) FROM job_history WHERE kind IN ('reclaimed', 'released')"
                                    + " AND job_id BETWEEN " + ids.getFirst() + " AND " + ids.getLast()))
                    .isZero();
            assertThat(w.stats().failed()).isEqualTo(1);
        }
    }

    @Test
    void aLeaseIsJudgedByItsHoldersTimeoutNotByTheReclaimersOwn() throws Exception {
        // A beats every 2 s with a 10 s timeout; B reclaims with a 1 s timeout of its own. B must
        // not take A's healthy job between A's beats.
        CountDownLatch finish = new CountDownLatch(1);
        HandlerRegistry patient = new HandlerRegistry().register("patient", ctx -> {
            finish.await(20, TimeUnit.SECONDS);
            return Outcome.complete(null);
        });
        WorkerConfig slow =
                TestSupport.config("slow-beat").withHeartbeat(Duration.ofSeconds(2), Duration.ofSeconds(10));
        WorkerConfig strict = TestSupport.config("strict")
                .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(1))
                .withMaintenance(true, Duration.ofMillis(200));
        try (Worker a = new Worker(slow, db.database(), patient).start();
                Worker b = new Worker(strict, db.database(), new HandlerRegistry()).start()) {
            Job job = approve(db.requests(), NewJob.of("patient", null));
            await("A holds it", () -> status(job.id()) == JobStatus.PROCESSING);
            // Five of B's timeouts, and A beats twice in that time.
            Thread.sleep(5_000);
            assertThat(b.reclaimer().runOnce().total()).isZero();
            finish.countDown();
            await("completed", () -> status(job.id()) == JobStatus.COMPLETED);
            Job done = db.queries().find(job.id()).orElseThrow();
            assertThat(done.attempt()).isEqualTo(1);
            assertThat(db.fixtures().eventKinds(job.id())).doesNotContain("reclaimed");
            assertThat(a.stats().leasesLost()).isZero();
        }
    }

    @Test
    void perQueueLimitsBoundHowManyJobsOfAQueueRunAtOnce() throws Exception {
        var running = new java.util.concurrent.atomic.AtomicInteger();
        var peak = new java.util.concurrent.atomic.AtomicInteger();
        HandlerRegistry registry = new HandlerRegistry().register("video", ctx -> {
            int now = running.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
            Thread.sleep(50);
            running.decrementAndGet();
            return Outcome.complete(null);
        });
        WorkerConfig config =
                TestSupport.config("limits").withQueues(List.of("video", "default"), java.util.Map.of("video", 2));
        try (Worker w = new Worker(config, db.database(), registry).start()) {
            List<Job> jobs = new java.util.ArrayList<>();
            for (int i = 0; i < 12; i++) {
                jobs.add(approve(db.requests(), NewJob.of("video", null).withQueue("video")));
            }
            await("all video jobs complete", () -> jobs.stream().allMatch(j -> status(j.id()) == JobStatus.COMPLETED));
        }
        assertThat(peak.get()).isBetween(1, 2);
    }

    static JobStatus status(long id) {
        return db.queries().find(id).orElseThrow().status();
    }
}
