package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Jobs claimed ahead of the free slots: held (leased, beaten for) while they wait in the worker,
 * never more than the prefetch, only while handlers are short, and given back at once when the
 * worker stops claiming.
 */
class PrefetchTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("prefetch");

    private final AtomicInteger started = new AtomicInteger();

    private HandlerRegistry registry(CountDownLatch gate) {
        return new HandlerRegistry()
                .register("quick", ctx -> Outcome.complete(null))
                .register("gated", ctx -> {
                    started.incrementAndGet();
                    gate.await();
                    return Outcome.complete(null);
                });
    }

    private long count(String sql) {
        return db.fixtures().count(sql);
    }

    @Test
    void claimsAheadWhileHandlersAreShortAndGivesThoseJobsBackWhenItStops() {
        CountDownLatch gate = new CountDownLatch(1);
        WorkerConfig config = TestSupport.config("prefetch")
                .withConcurrency(2)
                .withPrefetch(3)
                .withQueues(List.of("default"), Map.of());
        Worker w = new Worker(config, db.database(), registry(gate)).start();
        try {
            // Short handlers first: the worker learns that claiming ahead pays.
            db.fixtures().approvedBulk("quick", 20);
            await("the quick jobs done", () -> count("SELECT count(*) FROM jobs WHERE status = 'completed'") == 20);

            db.fixtures().approvedBulk("gated", 10);
            await(
                    "two running and three claimed ahead",
                    () -> started.get() == 2 && count("SELECT count(*) FROM jobs WHERE status = 'processing'") == 5);
            // It stays at that: two slots, three ahead, the rest left to other workers.
            TestSupport.await(
                    "a heartbeat for all five", () -> w.heartbeatOnce().beats() == 5);
            assertThat(count("SELECT count(*) FROM jobs WHERE status = 'processing'"))
                    .isEqualTo(5);
            assertThat(count("SELECT count(*) FROM jobs WHERE status = 'approved'"))
                    .isEqualTo(5);
            assertThat(started.get()).isEqualTo(2);

            // Stopping the claims gives the three waiting ones back at once, attempt unused.
            w.stopClaiming();
            assertThat(count("SELECT count(*) FROM jobs WHERE status = 'processing'"))
                    .isEqualTo(2);
            assertThat(count("SELECT count(*) FROM jobs WHERE type = 'gated' AND status = 'approved' AND attempt = 0"))
                    .isEqualTo(8);
            assertThat(count("SELECT count(*) FROM job_history WHERE kind = 'released'"))
                    .isEqualTo(3);
        } finally {
            gate.countDown();
            w.shutdown(Duration.ofSeconds(5));
        }
        assertThat(count("SELECT count(*) FROM jobs WHERE type = 'gated' AND status = 'completed'"))
                .as("the two that ran finished and were written")
                .isEqualTo(2);
        assertThat(started.get()).isEqualTo(2);
    }

    @Test
    void jobsClaimedAheadAreRefilledInABatchOnceHalfOfThemHaveStarted() throws Exception {
        java.util.concurrent.Semaphore finish = new java.util.concurrent.Semaphore(0);
        HandlerRegistry registry = new HandlerRegistry()
                .register("quick", ctx -> Outcome.complete(null))
                .register("gated", ctx -> {
                    started.incrementAndGet();
                    finish.acquire();
                    return Outcome.complete(null);
                });
        WorkerConfig config = TestSupport.config("refill")
                .withConcurrency(2)
                .withPrefetch(8)
                .withQueues(List.of("default"), Map.of());
        Worker w = new Worker(config, db.database(), registry).start();
        try {
            db.fixtures().approvedBulk("quick", 20);
            await("the quick jobs done", () -> count("SELECT count(*) FROM jobs WHERE status = 'completed'") == 20);
            db.fixtures().approvedBulk("gated", 40);
            await("two running and eight ahead", () -> started.get() == 2 && processing() == 10);

            // Three finish: three of the eight ahead start, five still wait; no claim yet.
            finish.release(3);
            await("five started and three written", () -> started.get() == 5 && gatedCompleted() == 3);
            w.heartbeatOnce();
            assertThat(processing()).isEqualTo(7);

            // One more: four wait, half of eight: one claim refills to eight ahead.
            finish.release(1);
            await("refilled", () -> started.get() == 6 && processing() == 10);
            assertThat(count("SELECT count(*) FROM jobs WHERE type = 'gated' AND status = 'approved'"))
                    .isEqualTo(40 - 10 - 4);
        } finally {
            finish.release(100);
            w.shutdown(Duration.ofSeconds(5));
        }
    }

    private long gatedCompleted() {
        return count("SELECT count(*) FROM jobs WHERE type = 'gated' AND status = 'completed'");
    }

    private long processing() {
        return count("SELECT count(*) FROM jobs WHERE status = 'processing'");
    }

    @Test
    void jobsClaimedAheadBehindALongRunAreGivenBackForOtherWorkers() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        WorkerConfig config = TestSupport.config("hoarder")
                .withConcurrency(1)
                .withPrefetch(8)
                .withQueues(List.of("default"), Map.of());
        Worker a = new Worker(config, db.database(), registry(gate)).start();
        Worker b = null;
        try {
            db.fixtures().approvedBulk("quick", 20);
            await("the quick jobs done", () -> count("SELECT count(*) FROM jobs WHERE status = 'completed'") == 20);
            // One long run and five short jobs behind it: the worker learnt that its jobs are
            // short, claims the five ahead, and they cannot start while the long one holds its slot.
            db.fixtures().approvedBulk("gated", 1);
            await("the long one runs", () -> started.get() == 1);
            db.fixtures().approvedBulk("quick", 5);
            await(
                    "given back",
                    () -> count("SELECT count(*) FROM job_history WHERE kind = 'released' AND worker_id = '" + a.id()
                                    + "'")
                            == 5);
            b = new Worker(config.withName("helper"), db.database(), registry(gate)).start();
            String helper = b.id();
            await(
                    "the five done by the other worker",
                    () -> count("SELECT count(*) FROM job_history WHERE kind = 'completed' AND worker_id = '" + helper
                                    + "'")
                            == 5);
            assertThat(started.get()).as("the long one still runs alone").isEqualTo(1);
        } finally {
            gate.countDown();
            a.shutdown(Duration.ofSeconds(5));
            if (b != null) {
                b.shutdown(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void longHandlersAreNotClaimedAhead() {
        CountDownLatch gate = new CountDownLatch(1);
        HandlerRegistry registry = new HandlerRegistry().register("slow", ctx -> {
            started.incrementAndGet();
            if (started.get() <= 2) {
                Thread.sleep(200);
                return Outcome.complete(null);
            }
            gate.await();
            return Outcome.complete(null);
        });
        WorkerConfig config =
                TestSupport.config("no-prefetch").withConcurrency(2).withPrefetch(3);
        Worker w = new Worker(config, db.database(), registry).start();
        try {
            db.fixtures().approvedBulk("slow", 10);
            await("two slow ones done and two more running", () -> started.get() == 4);
            w.heartbeatOnce();
            assertThat(count("SELECT count(*) FROM jobs WHERE status = 'processing'"))
                    .as("handlers take longer than %s: nothing claimed ahead", JobRunner.PREFETCH_WHEN_RUNS_UNDER)
                    .isEqualTo(2);
        } finally {
            gate.countDown();
            w.shutdown(Duration.ofSeconds(5));
        }
    }

    @Test
    void everyJobOfABurnDownIsCompletedOnceWithItsRoundsBatched() {
        WorkerConfig config = TestSupport.config("rounds").withConcurrency(8).withPrefetch(8);
        Worker w = new Worker(config, db.database(), registry(new CountDownLatch(0))).start();
        try {
            db.fixtures().approvedBulk("quick", 2_000);
            await("all done", () -> count("SELECT count(*) FROM jobs WHERE status = 'completed'") == 2_000);
        } finally {
            w.shutdown(Duration.ofSeconds(5));
        }
        assertThat(count("SELECT count(*) FROM job_history WHERE kind = 'completed'"))
                .isEqualTo(2_000);
        assertThat(count("SELECT count(DISTINCT job_id) FROM job_history WHERE kind = 'completed'"))
                .isEqualTo(2_000);
        assertThat(count("SELECT count(*) FROM job_history WHERE kind = 'completed' AND attempt_started_at IS NULL"))
                .isZero();
        assertThat(w.stats().completed()).isEqualTo(2_000);
        // One statement per round claims and completes together: far fewer statements than jobs.
        assertThat(w.stats().claimStatements()).isLessThan(1_000);
    }
}
