package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.job.Results.AlreadyExists;
import dev.gaffer.job.Results.Created;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Written;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The races the design promises to win, run with real threads on real connections. Every test
 * asserts exact counts: a lost race is fine, a doubled or lost job is not.
 */
class JobRaceTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("races").withPoolSize(40);

    @BeforeEach
    void emptyQueue() {
        db.fixtures().cancelUnfinished();
    }

    @Test
    void eightClaimersNeverGetTheSameJobTwiceAndGetThemAll() throws Exception {
        List<Long> ids = db.fixtures().approvedBulk("noop", 5_000);
        ConcurrentHashMap<Long, String> owner = new ConcurrentHashMap<>();
        List<Long> duplicates = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Integer> perWorker = race(8, w -> {
            String workerId = "claimer/" + w;
            int mine = 0;
            while (true) {
                List<Job> batch = db.leases().claim(workerId, List.of("default"), 25, List.of());
                if (batch.isEmpty()) {
                    return mine;
                }
                for (Job j : batch) {
                    assertThat(j.lockedBy()).isEqualTo(workerId);
                    if (owner.putIfAbsent(j.id(), workerId) != null) {
                        duplicates.add(j.id());
                    }
                }
                mine += batch.size();
            }
        });
        assertThat(duplicates).isEmpty();
        assertThat(owner.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(perWorker.stream().mapToInt(Integer::intValue).sum()).isEqualTo(5_000);
        assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE status = 'processing' AND attempt = 1"))
                .isEqualTo(5_000);
        assertThat(db.fixtures()
                        .count("SELECT count(*) FROM jobs WHERE status = 'processing' AND claimed_at IS NOT NULL"))
                .isEqualTo(5_000);
    }

    @Test
    void fiftyConcurrentApprovalsOfOneJobHaveExactlyOneWinner() throws Exception {
        Job job = db.fixtures().pending("video");
        List<Results.Transition> results = race(50, i -> db.requests().approve(job.id(), "approver-" + i));
        assertThat(results).filteredOn(r -> r instanceof Moved).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof WrongState).hasSize(49);
        assertThat(db.fixtures().eventKinds(job.id())).containsExactly("created", "approved");
        String winner = ((Moved) results.stream()
                        .filter(r -> r instanceof Moved)
                        .findFirst()
                        .orElseThrow())
                .job()
                .approvedBy();
        assertThat(db.queries().find(job.id()).orElseThrow().approvedBy()).isEqualTo(winner);
    }

    @Test
    void concurrentCreatesWithOneIdempotencyKeyYieldOneRow() throws Exception {
        NewJob req = NewJob.of("noop", params("x", 1)).withIdempotencyKey("race-key");
        List<Results.CreateResult> results = race(20, i -> db.requests().create(req));
        assertThat(results).filteredOn(r -> r instanceof Created).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof AlreadyExists).hasSize(19);
        assertThat(results.stream().map(r -> r.job().id()).distinct()).hasSize(1);
        assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE idempotency_key = 'race-key'"))
                .isEqualTo(1);
    }

    @Test
    void aReclaimerRacingCompletionsNeverMovesACompletedJobBack() throws Exception {
        db.fixtures().approvedBulk("noop", 300);
        List<Job> claimed = db.leases().claim("w/slow", List.of("default"), 300, List.of());
        assertThat(claimed).hasSize(300);
        db.fixtures()
                .exec("UPDATE jobs SET heartbeat_at = now() - interval '1 minute',"
                        + " lease_expires_at = now() - interval '45 seconds' WHERE locked_by = 'w/slow'");

        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Future<Set<Long>> completer = pool.submit(() -> {
            go.await();
            Set<Long> won = new HashSet<>();
            for (Job j : claimed) {
                if (db.outcomes().complete(j.lease(), null) instanceof Written) {
                    won.add(j.id());
                }
            }
            return won;
        });
        Future<Integer> reclaimer = pool.submit(() -> {
            go.await();
            int total = 0;
            for (int i = 0; i < 200 && !completer.isDone(); i++) {
                total += db.reclaims().reclaimExpired(7).total();
            }
            return total + db.reclaims().reclaimExpired(1000).total();
        });
        go.countDown();
        Set<Long> completedIds = completer.get(60, TimeUnit.SECONDS);
        int reclaimed = reclaimer.get(60, TimeUnit.SECONDS);
        pool.shutdown();

        assertThat(completedIds.size() + reclaimed).isEqualTo(300);
        assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE status = 'completed'"))
                .isEqualTo(completedIds.size());
        assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE status = 'approved'"))
                .isEqualTo(reclaimed);
        // No job has both a completion and a reclaim.
        assertThat(db.fixtures().count("""
                        SELECT count(*) FROM jobs j
                         WHERE EXISTS (SELECT 1 FROM job_history e WHERE e.job_id = j.id AND e.kind = 'completed')
                           AND EXISTS (SELECT 1 FROM job_history e WHERE e.job_id = j.id AND e.kind = 'reclaimed')""")).isZero();
    }

    @Test
    void twoHundredChildrenFinishingAtOnceResumeTheParentExactlyOnce() throws Exception {
        Job parent = db.fixtures().processing("video", "w/parent");
        List<SubJob> children = IntStream.range(0, 200)
                .mapToObj(i -> SubJob.of("scene", params("i", i)))
                .toList();
        List<Long> childIds = ((Spawned)
                        db.outcomes().waitForSubJobs(parent.lease(), children, "rendering", "stitching"))
                .subJobIds();
        List<Job> running = db.leases().claim("w/children", List.of("default"), 200, List.of());
        assertThat(running).extracting(Job::id).containsExactlyInAnyOrderElementsOf(childIds);

        // 8 threads each finish a share of the children, all released at the same instant.
        List<Integer> done = race(8, t -> {
            int n = 0;
            for (int i = t; i < running.size(); i += 8) {
                Job c = running.get(i);
                Results.Fenced r = i % 10 == 0
                        ? db.outcomes().fail(c.lease(), "scene " + i + " broke", false, Duration.ZERO)
                        : db.outcomes().complete(c.lease(), params("clip", i));
                assertThat(r).isInstanceOf(Written.class);
                n++;
            }
            return n;
        });
        assertThat(done.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200);

        Job resumed = db.queries().find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.subjobsOpen()).isZero();
        assertThat(resumed.subjobsTotal()).isEqualTo(200);
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(db.fixtures().eventKinds(parent.id()))
                .filteredOn("resumed"::equals)
                .hasSize(1);
        assertThat(db.fixtures().count("SELECT completed + failed FROM job_trees WHERE parent_id = " + parent.id()))
                .isEqualTo(200);
    }

    @Test
    void aChildReclaimedFromADeadWorkerStillResumesTheParentOnce() {
        Job parent = db.fixtures().processing("video", "w/parent");
        db.outcomes()
                .waitForSubJobs(parent.lease(), List.of(SubJob.of("scene", null), SubJob.of("scene", null)), "r", "s");
        List<Job> kids = db.leases().claim("w/dies", List.of("default"), 2, List.of());
        db.outcomes().complete(kids.get(0).lease(), null);
        db.fixtures().ageHeartbeat(kids.get(1).id(), 60);
        assertThat(db.reclaims().reclaimExpired(100).requeued()).isEqualTo(1);
        assertThat(db.outcomes().complete(kids.get(1).lease(), null)).isInstanceOf(LeaseLost.class);
        assertThat(db.queries().find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.WAITING);

        Job again =
                db.leases().claim("w/healthy", List.of("default"), 1, List.of()).getFirst();
        assertThat(again.id()).isEqualTo(kids.get(1).id());
        db.outcomes().complete(again.lease(), null);
        assertThat(db.queries().find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
        assertThat(db.fixtures().eventKinds(parent.id()))
                .filteredOn("resumed"::equals)
                .hasSize(1);
    }

    @Test
    void cancellingAParentWhileItsChildrenFinishLeavesNoChildBehind() throws Exception {
        for (int round = 0; round < 5; round++) {
            Job parent = db.fixtures().processing("video", "w/parent");
            List<SubJob> children = IntStream.range(0, 60)
                    .mapToObj(i -> SubJob.of("scene", params("i", i)))
                    .toList();
            db.outcomes().waitForSubJobs(parent.lease(), children, "rendering", "stitching");
            List<Job> running = db.leases().claim("w/children", List.of("default"), 60, List.of());
            List<Object> outcomes = race(4, t -> {
                if (t == 0) {
                    Thread.sleep(2);
                    return db.requests().cancel(parent.id(), "operator");
                }
                int written = 0;
                for (int i = t - 1; i < running.size(); i += 3) {
                    if (db.outcomes().complete(running.get(i).lease(), null) instanceof Written) {
                        written++;
                    }
                }
                return written;
            });
            int completed = outcomes.stream()
                    .filter(o -> o instanceof Integer)
                    .mapToInt(o -> (Integer) o)
                    .sum();
            Job after = db.queries().find(parent.id()).orElseThrow();
            if (outcomes.getFirst() instanceof Moved) {
                assertThat(after.status()).isEqualTo(JobStatus.CANCELLED);
                assertThat(after.subjobsOpen()).isZero();
                assertThat(db.fixtures()
                                .count("SELECT count(*) FROM jobs WHERE parent_id = " + parent.id()
                                        + " AND status NOT IN ('completed', 'cancelled')"))
                        .isZero();
            } else {
                // Every child finished first: the parent resumed, and cancelling it was refused.
                assertThat(completed).isEqualTo(60);
                assertThat(after.status()).isIn(JobStatus.APPROVED, JobStatus.CANCELLED);
            }
            assertThat(db.fixtures()
                            .count("SELECT count(*) FROM jobs WHERE parent_id = " + parent.id()
                                    + " AND status = 'completed'"))
                    .isEqualTo(completed);
            db.fixtures().cancelUnfinished();
        }
    }

    /** Runs {@code n} copies of {@code work} released at the same instant; returns their results. */
    private static <T> List<T> race(int n, IndexedCall<T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                Callable<T> call = () -> {
                    ready.countDown();
                    go.await();
                    return work.call(index);
                };
                futures.add(pool.submit(call));
            }
            ready.await(30, TimeUnit.SECONDS);
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(120, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    interface IndexedCall<T> {
        T call(int index) throws Exception;
    }
}
