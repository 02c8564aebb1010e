package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Failure policies of a parent that waits for sub-jobs, and retrying only what failed. */
class SubJobPolicyTest {

    static Database db;
    static JobStore store;
    static JobFixtures fx;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("policies");
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

    private List<Long> spawn(Job parent, int n, SubJobFailurePolicy policy) {
        List<SubJob> subs = IntStream.range(0, n)
                .mapToObj(i -> SubJob.of("scene", params("i", i)))
                .toList();
        return ((Spawned) store.waitForSubJobs(parent.lease(), subs, "rendering", "stitching", policy)).subJobIds();
    }

    private Job claimOne(long id) {
        List<Job> claimed = store.claim("w/" + id, List.of("default"), 1, List.of());
        assertThat(claimed).extracting(Job::id).containsExactly(id);
        return claimed.getFirst();
    }

    @Test
    void failFastFailsTheParentAndCancelsTheUnfinishedSiblings() {
        Job parent = fx.processing("video", "w/parent");
        List<Long> kids = spawn(parent, 4, SubJobFailurePolicy.FAIL_FAST);
        Job first = claimOne(kids.get(0));
        Job second = claimOne(kids.get(1));
        Job third = claimOne(kids.get(2));
        store.complete(first.lease(), params("clip", 0));
        store.fail(second.lease(), "scene 1 broke", false, Duration.ZERO);

        Job failed = store.find(parent.id()).orElseThrow();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.lastError()).isEqualTo("sub-job " + second.id() + " failed: scene 1 broke");
        assertThat(failed.subjobsOpen()).isZero();
        assertThat(failed.finishedAt()).isNotNull();
        assertThat(store.subJobs(parent.id()))
                .extracting(Job::status)
                .containsExactly(JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.CANCELLED);
        // The sibling that was running lost its lease: its late result is discarded.
        assertThat(store.complete(third.lease(), params("clip", 2))).isInstanceOf(LeaseLost.class);
        assertThat(fx.eventKinds(parent.id())).endsWith("failed");
    }

    @Test
    void aRetryableFailureOfASubJobIsNotAFailureYet() {
        Job parent = fx.processing("video", "w/parent");
        List<Long> kids = spawn(parent, 2, SubJobFailurePolicy.FAIL_FAST);
        store.fail(claimOne(kids.get(0)).lease(), "flaky", true, Duration.ZERO);
        assertThat(store.find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.WAITING);
    }

    @Test
    void failFastReachesTheGrandparent() {
        Job grandparent = fx.processing("video", "w/g");
        Long parentId = spawn(grandparent, 1, SubJobFailurePolicy.FAIL_FAST).getFirst();
        Job parent = claimOne(parentId);
        Long childId = spawn(parent, 2, SubJobFailurePolicy.FAIL_FAST).getFirst();
        store.fail(claimOne(childId).lease(), "deep failure", false, Duration.ZERO);

        assertThat(store.find(parentId).orElseThrow().status()).isEqualTo(JobStatus.FAILED);
        Job g = store.find(grandparent.id()).orElseThrow();
        assertThat(g.status()).isEqualTo(JobStatus.FAILED);
        assertThat(g.lastError())
                .startsWith("sub-job " + parentId + " failed: sub-job " + childId + " failed: deep failure");
        assertThat(fx.count("SELECT count(*) FROM jobs WHERE status = 'waiting'"))
                .isZero();
    }

    @Test
    void waitAllResumesTheParentWithTheFailureVisibleToItsHandler() {
        Job parent = fx.processing("video", "w/parent");
        List<Long> kids = spawn(parent, 3, SubJobFailurePolicy.WAIT_ALL);
        store.fail(claimOne(kids.get(0)).lease(), "broke", false, Duration.ZERO);
        assertThat(store.find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.WAITING);
        store.complete(claimOne(kids.get(1)).lease(), null);
        store.complete(claimOne(kids.get(2)).lease(), null);

        Job resumed = store.find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(store.subJobs(parent.id()))
                .extracting(Job::status)
                .containsExactly(JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.COMPLETED);
    }

    @Test
    void retryingAFailedParentRerunsOnlyWhatFailed() {
        Job parent = fx.processing("video", "w/parent");
        List<Long> kids = spawn(parent, 4, SubJobFailurePolicy.FAIL_FAST);
        store.complete(claimOne(kids.get(0)).lease(), params("clip", 0));
        store.fail(claimOne(kids.get(1)).lease(), "broke", false, Duration.ZERO);
        assertThat(store.find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.FAILED);

        Job retried = ((Moved) store.retry(parent.id(), "operator")).job();
        assertThat(retried.status()).isEqualTo(JobStatus.WAITING);
        assertThat(retried.subjobsOpen()).isEqualTo(3);
        assertThat(retried.currentStage()).isEqualTo("rendering 1/4");
        assertThat(retried.finishedAt()).isNull();
        List<Job> subs = store.subJobs(parent.id());
        assertThat(subs.getFirst().status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(subs.getFirst().result()).isEqualTo(params("clip", 0));
        assertThat(subs.subList(1, 4)).allSatisfy(s -> {
            assertThat(s.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(s.attempt()).isZero();
        });

        for (int i = 1; i < 4; i++) {
            store.complete(claimOne(kids.get(i)).lease(), params("clip", i));
        }
        Job resumed = store.find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(fx.eventKinds(parent.id())).filteredOn("resumed"::equals).hasSize(1);
    }

    @Test
    void retryingAParentWhoseSubJobsAllCompletedResumesAtItsResumeStage() {
        Job parent = fx.processing("video", "w/parent");
        List<Long> kids = spawn(parent, 1, SubJobFailurePolicy.FAIL_FAST);
        store.complete(claimOne(kids.getFirst()).lease(), json("{\"clip\":0}"));
        Job stitching = claimOne(parent.id());
        assertThat(stitching.currentStage()).isEqualTo("stitching");
        store.fail(stitching.lease(), "disk full", false, Duration.ZERO);

        Job retried = ((Moved) store.retry(parent.id(), "operator")).job();
        assertThat(retried.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(retried.currentStage()).isEqualTo("stitching");
        assertThat(store.subJobs(parent.id()).getFirst().status()).isEqualTo(JobStatus.COMPLETED);
    }
}
