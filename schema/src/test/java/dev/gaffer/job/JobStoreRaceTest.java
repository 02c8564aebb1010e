package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.job.Results.AlreadyExists;
import dev.gaffer.job.Results.Created;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Written;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.testing.TestPostgres;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The races the design promises to win, run with real threads on real connections. Every test
 * asserts exact counts: a lost race is fine, a doubled or lost job is not.
 */
class JobStoreRaceTest {

    static Database db;
    static JobStore store;
    static JobFixtures fx;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("races", 40);
        store = new JobStore(db.dataSource());
        fx = new JobFixtures(db);
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @BeforeEach
    void emptyQueue() {
        fx.cancelUnfinished();
    }

    @Test
    void eightClaimersNeverGetTheSameJobTwiceAndGetThemAll() throws Exception {
        List<Long> ids = fx.approvedBulk("noop", 5_000);
        ConcurrentHashMap<Long, String> owner = new ConcurrentHashMap<>();
        List<Long> duplicates = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Integer> perWorker = race(8, w -> {
            String workerId = "claimer/" + w;
            int mine = 0;
            while (true) {
                List<Job> batch = store.claim(workerId, List.of("default"), 25, List.of());
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
        assertThat(fx.count("SELECT count(*) FROM jobs WHERE status = 'processing' AND attempt = 1"))
                .isEqualTo(5_000);
        assertThat(fx.count("SELECT count(*) FROM job_events WHERE kind = 'claimed'"))
                .isEqualTo(5_000);
    }

    @Test
    void fiftyConcurrentApprovalsOfOneJobHaveExactlyOneWinner() throws Exception {
        Job job = fx.pending("video");
        List<Results.Transition> results = race(50, i -> store.approve(job.id(), "approver-" + i));
        assertThat(results).filteredOn(r -> r instanceof Moved).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof WrongState).hasSize(49);
        assertThat(fx.eventKinds(job.id())).containsExactly("created", "approved");
        String winner = ((Moved) results.stream()
                        .filter(r -> r instanceof Moved)
                        .findFirst()
                        .orElseThrow())
                .job()
                .approvedBy();
        assertThat(store.find(job.id()).orElseThrow().approvedBy()).isEqualTo(winner);
    }

    @Test
    void concurrentCreatesWithOneIdempotencyKeyYieldOneRow() throws Exception {
        NewJob req = NewJob.of("noop", params("x", 1)).withIdempotencyKey("race-key");
        List<Results.CreateResult> results = race(20, i -> store.create(req));
        assertThat(results).filteredOn(r -> r instanceof Created).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof AlreadyExists).hasSize(19);
        assertThat(results.stream().map(r -> r.job().id()).distinct()).hasSize(1);
        assertThat(fx.count("SELECT count(*) FROM jobs WHERE idempotency_key = 'race-key'"))
                .isEqualTo(1);
    }

    @Test
    void aReclaimerRacingCompletionsNeverMovesACompletedJobBack() throws Exception {
        fx.approvedBulk("noop", 300);
        List<Job> claimed = store.claim("w/slow", List.of("default"), 300, List.of());
        assertThat(claimed).hasSize(300);
        fx.exec("UPDATE jobs SET heartbeat_at = now() - interval '1 minute',"
                + " lease_expires_at = now() - interval '45 seconds' WHERE locked_by = 'w/slow'");

        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Future<Set<Long>> completer = pool.submit(() -> {
            go.await();
            Set<Long> won = new HashSet<>();
            for (Job j : claimed) {
                if (store.complete(j.lease(), null) instanceof Written) {
                    won.add(j.id());
                }
            }
            return won;
        });
        Future<Integer> reclaimer = pool.submit(() -> {
            go.await();
            int total = 0;
            for (int i = 0; i < 200 && !completer.isDone(); i++) {
                total += store.reclaimExpired(7).total();
            }
            return total + store.reclaimExpired(1000).total();
        });
        go.countDown();
        Set<Long> completedIds = completer.get(60, TimeUnit.SECONDS);
        int reclaimed = reclaimer.get(60, TimeUnit.SECONDS);
        pool.shutdown();

        assertThat(completedIds.size() + reclaimed).isEqualTo(300);
        assertThat(fx.count("SELECT count(*) FROM jobs WHERE status = 'completed'"))
                .isEqualTo(completedIds.size());
        assertThat(fx.count("SELECT count(*) FROM jobs WHERE status = 'approved'"))
                .isEqualTo(reclaimed);
        // No job has both a completion and a reclaim.
        assertThat(fx.count("""
                        SELECT count(*) FROM jobs j
                         WHERE EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.kind = 'completed')
                           AND EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.kind = 'reclaimed')""")).isZero();
    }

    @Test
    void twoHundredChildrenFinishingAtOnceResumeTheParentExactlyOnce() throws Exception {
        Job parent = fx.processing("video", "w/parent");
        List<SubJob> children = IntStream.range(0, 200)
                .mapToObj(i -> SubJob.of("scene", params("i", i)))
                .toList();
        List<Long> childIds =
                ((Spawned) store.waitForSubJobs(parent.lease(), children, "rendering", "stitching")).subJobIds();
        List<Job> running = store.claim("w/children", List.of("default"), 200, List.of());
        assertThat(running).extracting(Job::id).containsExactlyInAnyOrderElementsOf(childIds);

        // 8 threads each finish a share of the children, all released at the same instant.
        List<Integer> done = race(8, t -> {
            int n = 0;
            for (int i = t; i < running.size(); i += 8) {
                Job c = running.get(i);
                Results.Fenced r = i % 10 == 0
                        ? store.fail(c.lease(), "scene " + i + " broke", false, Duration.ZERO)
                        : store.complete(c.lease(), params("clip", i));
                assertThat(r).isInstanceOf(Written.class);
                n++;
            }
            return n;
        });
        assertThat(done.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200);

        Job resumed = store.find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.subjobsOpen()).isZero();
        assertThat(resumed.subjobsTotal()).isEqualTo(200);
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(fx.eventKinds(parent.id())).filteredOn("resumed"::equals).hasSize(1);
        assertThat(fx.count("SELECT completed + failed FROM job_trees WHERE parent_id = " + parent.id()))
                .isEqualTo(200);
    }

    @Test
    void aChildReclaimedFromADeadWorkerStillResumesTheParentOnce() {
        Job parent = fx.processing("video", "w/parent");
        store.waitForSubJobs(parent.lease(), List.of(SubJob.of("scene", null), SubJob.of("scene", null)), "r", "s");
        List<Job> kids = store.claim("w/dies", List.of("default"), 2, List.of());
        store.complete(kids.get(0).lease(), null);
        fx.ageHeartbeat(kids.get(1).id(), 60);
        assertThat(store.reclaimExpired(100).requeued()).isEqualTo(1);
        assertThat(store.complete(kids.get(1).lease(), null)).isInstanceOf(LeaseLost.class);
        assertThat(store.find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.WAITING);

        Job again = store.claim("w/healthy", List.of("default"), 1, List.of()).getFirst();
        assertThat(again.id()).isEqualTo(kids.get(1).id());
        store.complete(again.lease(), null);
        assertThat(store.find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
        assertThat(fx.eventKinds(parent.id())).filteredOn("resumed"::equals).hasSize(1);
    }

    @Test
    void cancellingAParentWhileItsChildrenFinishLeavesNoChildBehind() throws Exception {
        for (int round = 0; round < 5; round++) {
            Job parent = fx.processing("video", "w/parent");
            List<SubJob> children = IntStream.range(0, 60)
                    .mapToObj(i -> SubJob.of("scene", params("i", i)))
                    .toList();
            store.waitForSubJobs(parent.lease(), children, "rendering", "stitching");
            List<Job> running = store.claim("w/children", List.of("default"), 60, List.of());
            List<Object> outcomes = race(4, t -> {
                if (t == 0) {
                    Thread.sleep(2);
                    return store.cancel(parent.id(), "operator");
                }
                int written = 0;
                for (int i = t - 1; i < running.size(); i += 3) {
                    if (store.complete(running.get(i).lease(), null) instanceof Written) {
                        written++;
                    }
                }
                return written;
            });
            int completed = outcomes.stream()
                    .filter(o -> o instanceof Integer)
                    .mapToInt(o -> (Integer) o)
                    .sum();
            Job after = store.find(parent.id()).orElseThrow();
            if (outcomes.getFirst() instanceof Moved) {
                assertThat(after.status()).isEqualTo(JobStatus.CANCELLED);
                assertThat(after.subjobsOpen()).isZero();
                assertThat(fx.count("SELECT count(*) FROM jobs WHERE parent_id = " + parent.id()
                                + " AND status NOT IN ('completed', 'cancelled')"))
                        .isZero();
            } else {
                // Every child finished first: the parent resumed, and cancelling it was refused.
                assertThat(completed).isEqualTo(60);
                assertThat(after.status()).isIn(JobStatus.APPROVED, JobStatus.CANCELLED);
            }
            assertThat(fx.count(
                            "SELECT count(*) FROM jobs WHERE parent_id = " + parent.id() + " AND status = 'completed'"))
                    .isEqualTo(completed);
            fx.cancelUnfinished();
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
