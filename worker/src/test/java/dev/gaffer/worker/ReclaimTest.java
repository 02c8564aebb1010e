package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.approve;
import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.ReclaimResult;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ReclaimTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("reclaim");

    @Test
    void aJobWhoseWorkerStopsHeartbeatingIsReclaimedAndCompletedByAnotherWorker() throws Exception {
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch letFirstFinish = new CountDownLatch(1);
        AtomicBoolean firstInterrupted = new AtomicBoolean();
        AtomicReference<JobContext> firstContext = new AtomicReference<>();
        HandlerRegistry stalled = new HandlerRegistry().register("work", ctx -> {
            firstContext.set(ctx);
            firstStarted.countDown();
            try {
                letFirstFinish.await();
            } catch (InterruptedException e) {
                firstInterrupted.set(true);
            }
            // A zombie that insists on finishing: its completion must be rejected.
            return Outcome.complete(JobFixtures.params("by", "first"));
        });
        HandlerRegistry healthy =
                new HandlerRegistry().register("work", ctx -> Outcome.complete(JobFixtures.params("by", "second")));

        WorkerConfig timeouts = TestSupport.config("a").withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(5));
        try (Worker first = new Worker(timeouts.withName("first"), db.database(), stalled).start()) {
            Job job = approve(db.requests(), NewJob.of("work", null));
            assertThat(firstStarted.await(30, TimeUnit.SECONDS)).isTrue();
            Job held = db.queries().find(job.id()).orElseThrow();
            assertThat(held.lockedBy()).isEqualTo(first.id());

            first.stopHeartbeat();
            db.fixtures().ageHeartbeat(job.id(), 60);

            // The second worker runs the cluster maintenance through db-scheduler for real.
            WorkerConfig second = timeouts.withName("second").withMaintenance(true, Duration.ofMillis(500));
            try (Worker other = new Worker(second, db.database(), healthy).start()) {
                await("completed by the second worker", () -> statusOf(job.id()) == JobStatus.COMPLETED);
                Job done = db.queries().find(job.id()).orElseThrow();
                assertThat(done.result().get("by").asText()).isEqualTo("second");
                assertThat(done.attempt()).isEqualTo(2);
                assertThat(db.fixtures().eventKinds(job.id())).containsSubsequence("reclaimed", "completed");
                // One row per attempt, each with its holder.
                assertThat(db.fixtures()
                                .strings("SELECT kind || ' ' || worker_id || ' ' || (attempt_started_at IS NOT NULL)"
                                        + " FROM job_history WHERE job_id = " + job.id()
                                        + " AND kind IN ('reclaimed', 'completed') ORDER BY id"))
                        .containsExactly("reclaimed " + first.id() + " true", "completed " + other.id() + " true");
                assertThat(other.stats().completed()).isEqualTo(1);
            }

            // The first worker finds out at its next beat: handler interrupted, outcome discarded.
            assertThat(first.heartbeatOnce().lost()).containsExactly(job.id());
            await("first handler interrupted", firstInterrupted::get);
            assertThat(firstContext.get().isCancelled()).isTrue();
            await("first outcome discarded", () -> first.stats().discarded() == 1);
            assertThat(first.stats().completed()).isZero();

            // And a late write with the old lease is fenced off.
            assertThat(db.outcomes().complete(held.lease(), JobFixtures.params("by", "late")))
                    .isInstanceOf(LeaseLost.class);
            Job after = db.queries().find(job.id()).orElseThrow();
            assertThat(after.result().get("by").asText()).isEqualTo("second");
            List<JobEvent> completions = db.queries().events(job.id(), 0, 100).stream()
                    .filter(e -> e.kind().equals("completed"))
                    .toList();
            assertThat(completions).hasSize(1);
            assertThat(completions.getFirst().workerId()).startsWith("second/");
        }
    }

    @Test
    void aJobClaimedAgainWhileItsEarlierRunStillHoldsItsPlaceIsGivenBackAndNotRunTwiceInOneWorker() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger runningNow = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch letFirstFinish = new CountDownLatch(1);
        HandlerRegistry registry = new HandlerRegistry().register("work", ctx -> {
            int n = runs.incrementAndGet();
            mostAtOnce.accumulateAndGet(runningNow.incrementAndGet(), Math::max);
            try {
                if (n == 1) {
                    firstStarted.countDown();
                    // A run that does not notice its lease went: it ignores the interrupt too.
                    while (true) {
                        try {
                            letFirstFinish.await();
                            break;
                        } catch (InterruptedException ignored) {
                            // keeps going
                        }
                    }
                }
                return Outcome.complete(JobFixtures.params("run", n));
            } finally {
                runningNow.decrementAndGet();
            }
        });
        // It beats rarely: the worker does not learn of the lost lease before its next claim.
        WorkerConfig config = TestSupport.config("twice").withHeartbeat(Duration.ofSeconds(20), Duration.ofSeconds(60));
        try (Worker w = new Worker(config, db.database(), registry).start()) {
            Job job = approve(db.requests(), NewJob.of("work", null));
            assertThat(firstStarted.await(30, TimeUnit.SECONDS)).isTrue();

            // The lease runs out and the reclaimer approves the job again; its hint wakes the worker.
            db.fixtures().exec("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = " + job.id());
            assertThat(db.reclaims().reclaimExpired(10).requeued()).isEqualTo(1);

            await(
                    "the second claim given back",
                    () -> db.fixtures()
                                    .count("SELECT count(*) FROM job_history WHERE kind = 'released' AND job_id = "
                                            + job.id())
                            == 1);
            // Not claimed and given back over and over while the first run lingers.
            Thread.sleep(1000);
            assertThat(db.fixtures()
                            .count("SELECT count(*) FROM job_history WHERE kind = 'released' AND job_id = " + job.id()))
                    .isEqualTo(1);
            assertThat(runs.get()).isEqualTo(1);
            Job waiting = db.queries().find(job.id()).orElseThrow();
            assertThat(waiting.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(waiting.attempt())
                    .as("the given-back claim used no attempt")
                    .isEqualTo(1);

            // The first run ends; its outcome is fenced off, and the job runs again, once.
            letFirstFinish.countDown();
            await("completed by a second run", () -> statusOf(job.id()) == JobStatus.COMPLETED);
            Job done = db.queries().find(job.id()).orElseThrow();
            assertThat(done.result().get("run").asInt()).isEqualTo(2);
            assertThat(done.attempt()).isEqualTo(2);
            assertThat(mostAtOnce.get())
                    .as("runs of the job at once in this worker")
                    .isEqualTo(1);
            assertThat(w.stats().discarded()).isEqualTo(1);
        }
    }

    @Test
    void theReclaimerReturnsOnlyStaleJobsAndFailsThoseWithoutAttemptsLeft() {
        Job stale = db.fixtures().processing("stale", "gone/00000001");
        Job fresh = db.fixtures().processing("fresh", "alive/00000002");
        Job lastTry =
                db.requests().create(NewJob.of("last", null).withMaxAttempts(1)).job();
        db.requests().approve(lastTry.id(), "tester");
        db.leases().claim("gone/00000001", List.of("default"), 10, List.of());
        db.fixtures().ageHeartbeat(stale.id(), 60);
        db.fixtures().ageHeartbeat(lastTry.id(), 60);

        Worker w = new Worker(TestSupport.config("reclaimer"), db.database(), new HandlerRegistry());
        ReclaimResult r = w.reclaimer().runOnce();

        assertThat(r.requeued()).isEqualTo(1);
        assertThat(r.failed()).isEqualTo(1);
        assertThat(statusOf(stale.id())).isEqualTo(JobStatus.APPROVED);
        assertThat(statusOf(fresh.id())).isEqualTo(JobStatus.PROCESSING);
        assertThat(statusOf(lastTry.id())).isEqualTo(JobStatus.FAILED);
        assertThat(db.queries().find(stale.id()).orElseThrow().lastError()).contains("stopped heartbeating");
        assertThat(w.reclaimer().runOnce().total()).isZero();
        w.shutdown(Duration.ZERO);
    }

    @Test
    void aWorkerStartedUnderTheNameOfPredecessorsThatAreGoneFreesTheirJobsAtOnce() throws Exception {
        // One died on this host (its pid is no process now), one has been silent for longer than
        // its own heartbeat timeout, wherever it ran.
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        Job orphan = db.fixtures().processing("noop", "phoenix/0badf00d");
        Job silentOrphan = db.fixtures().processing("noop", "phoenix/51137");
        db.fixtures()
                .exec("INSERT INTO workers (id, name, host, pid, queues, concurrency, heartbeat_timeout) VALUES"
                        + " ('phoenix/0badf00d', 'phoenix', '" + WorkerConfig.hostName() + "', " + exited.pid()
                        + ", '{default}', 4, interval '15 seconds'),"
                        + " ('phoenix/51137', 'phoenix', 'elsewhere', 1, '{default}', 4, interval '15 seconds')");
        db.fixtures()
                .exec("UPDATE workers SET last_seen_at = now() - interval '16 seconds' WHERE id = 'phoenix/51137'");
        try (Worker w = new Worker(TestSupport.config("phoenix"), db.database(), HandlerRegistry.discover()).start()) {
            await(
                    "orphans completed",
                    () -> statusOf(orphan.id()) == JobStatus.COMPLETED
                            && statusOf(silentOrphan.id()) == JobStatus.COMPLETED);
            assertThat(db.fixtures().eventKinds(orphan.id())).contains("reclaimed");
            assertThat(db.queries().find(orphan.id()).orElseThrow().lastError()).contains("restarted");
            assertThat(db.fixtures().count("SELECT count(*) FROM workers WHERE name = 'phoenix'"))
                    .isEqualTo(1);
        }
    }

    @Test
    void aWorkerStartedUnderTheNameOfALiveOneLeavesItsJobsAlone() {
        // A second process given the same name on this host while the first one runs (its pid is
        // alive), and one on another host that beat a moment ago: neither is a predecessor.
        long alivePid = ProcessHandle.current().parent().orElseThrow().pid();
        Job busy = db.fixtures().processing("noop", "twin/aaaa1111");
        Job remote = db.fixtures().processing("noop", "twin/bbbb2222");
        db.fixtures()
                .exec("INSERT INTO workers (id, name, host, pid, queues, concurrency) VALUES"
                        + " ('twin/aaaa1111', 'twin', '" + WorkerConfig.hostName() + "', " + alivePid
                        + ", '{default}', 4),"
                        + " ('twin/bbbb2222', 'twin', 'elsewhere', 1, '{default}', 4)");
        var recovery = new StartupRecovery(
                new WorkerStore(db.dataSource()),
                db.reclaims(),
                new WorkerStore.Registration(
                        "twin/cccc3333",
                        "twin",
                        WorkerConfig.hostName(),
                        ProcessHandle.current().pid(),
                        List.of("default"),
                        4,
                        Duration.ofSeconds(15)));
        var r = recovery.runOnce();
        assertThat(r.gone()).isEmpty();
        assertThat(r.alive())
                .extracting(WorkerStore.Predecessor::id)
                .containsExactlyInAnyOrder("twin/aaaa1111", "twin/bbbb2222");
        assertThat(statusOf(busy.id())).isEqualTo(JobStatus.PROCESSING);
        assertThat(statusOf(remote.id())).isEqualTo(JobStatus.PROCESSING);
        assertThat(db.fixtures().count("SELECT count(*) FROM workers WHERE name = 'twin'"))
                .isEqualTo(2);

        // A predecessor that shows this very process's pid on this host may be a twin in another
        // pid namespace (two containers of one pod): left to its lease, too.
        db.fixtures()
                .exec(
                        "INSERT INTO workers (id, name, host, pid, queues, concurrency) VALUES ('twin/dddd4444', 'twin', '"
                                + WorkerConfig.hostName() + "', "
                                + ProcessHandle.current().pid() + ", '{default}', 4)");
        assertThat(recovery.runOnce().gone()).isEmpty();
    }

    @Test
    void aHandlerThatIgnoresItsTimeoutLosesItsLeaseAndIsReclaimed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        HandlerRegistry registry = new HandlerRegistry().register("deaf", ctx -> {
            started.countDown();
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (release.getCount() > 0 && System.nanoTime() < end) {
                try {
                    release.await(10, TimeUnit.MILLISECONDS);
                } catch (InterruptedException ignored) {
                    // a handler that ignores its interruption
                }
            }
            return Outcome.complete(null);
        });
        WorkerConfig config = TestSupport.config("deaf").withHeartbeat(Duration.ofMillis(100), Duration.ofSeconds(1));
        try (Worker w = new Worker(config, db.database(), registry).start()) {
            Job job = approve(db.requests(), NewJob.of("deaf", JobFixtures.params("timeout_ms", 200)));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            await("the worker let the lease lapse", () -> w.stats().leasesLost() == 1);
            await("reclaimed", () -> w.reclaimer().runOnce().total() == 1);
            Job after = db.queries().find(job.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(after.lockedBy()).isNull();
            // The zombie still runs, so this worker does not claim the job again meanwhile.
            Thread.sleep(300);
            assertThat(statusOf(job.id())).isEqualTo(JobStatus.APPROVED);
            release.countDown();
            await("the late outcome is discarded", () -> w.stats().discarded() == 1);
            await(
                    "claimed again once the zombie ended, and completed",
                    () -> statusOf(job.id()) == JobStatus.COMPLETED);
            assertThat(db.queries().find(job.id()).orElseThrow().attempt()).isEqualTo(2);
        }
    }

    static JobStatus statusOf(long id) {
        return db.queries().find(id).orElseThrow().status();
    }
}
