package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Failure policies of a parent that waits for sub-jobs, and retrying only what failed. */
class SubJobPolicyTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("policies");

    @BeforeEach
    void emptyQueue() {
        db.fixtures().cancelUnfinished();
    }

    private List<Long> spawn(Job parent, int n, SubJobFailurePolicy policy) {
        List<SubJob> subs = IntStream.range(0, n)
                .mapToObj(i -> SubJob.of("scene", params("i", i)))
                .toList();
        return ((Spawned) db.outcomes().waitForSubJobs(parent.lease(), subs, "rendering", "stitching", policy))
                .subJobIds();
    }

    private Job claimOne(long id) {
        List<Job> claimed = db.leases().claim("w/" + id, List.of("default"), 1, List.of());
        assertThat(claimed).extracting(Job::id).containsExactly(id);
        return claimed.getFirst();
    }

    @Test
    void failFastFailsTheParentAndCancelsTheUnfinishedSiblings() {
        Job parent = db.fixtures().processing("video", "w/parent");
        List<Long> kids = spawn(parent, 4, SubJobFailurePolicy.FAIL_FAST);
        Job first = claimOne(kids.get(0));
        Job second = claimOne(kids.get(1));
        Job third = claimOne(kids.get(2));
        db.outcomes().complete(first.lease(), params("clip", 0));
        db.outcomes().fail(second.lease(), "scene 1 broke", false, Duration.ZERO);

        Job failed = db.queries().find(parent.id()).orElseThrow();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.lastError()).isEqualTo("sub-job " + second.id() + " failed: scene 1 broke");
        assertThat(failed.subjobsOpen()).isZero();
        assertThat(failed.finishedAt()).isNotNull();
        assertThat(db.queries().subJobs(parent.id()))
                .extracting(Job::status)
                .containsExactly(JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.CANCELLED);
        // The sibling that was running lost its lease: its late result is discarded.
        assertThat(db.outcomes().complete(third.lease(), params("clip", 2))).isInstanceOf(LeaseLost.class);
        assertThat(db.fixtures().eventKinds(parent.id())).endsWith("failed");
    }

    @Test
    void aRetryableFailureOfASubJobIsNotAFailureYet() {
        Job parent = db.fixtures().processing("video", "w/parent");
        List<Long> kids = spawn(parent, 2, SubJobFailurePolicy.FAIL_FAST);
        db.outcomes().fail(claimOne(kids.get(0)).lease(), "flaky", true, Duration.ZERO);
        assertThat(db.queries().find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.WAITING);
    }

    @Test
    void failFastReachesTheGrandparent() {
        Job grandparent = db.fixtures().processing("video", "w/g");
        Long parentId = spawn(grandparent, 1, SubJobFailurePolicy.FAIL_FAST).getFirst();
        Job parent = claimOne(parentId);
        Long childId = spawn(parent, 2, SubJobFailurePolicy.FAIL_FAST).getFirst();
        db.outcomes().fail(claimOne(childId).lease(), "deep failure", false, Duration.ZERO);

        assertThat(db.queries().find(parentId).orElseThrow().status()).isEqualTo(JobStatus.FAILED);
        Job g = db.queries().find(grandparent.id()).orElseThrow();
        assertThat(g.status()).isEqualTo(JobStatus.FAILED);
        assertThat(g.lastError())
                .startsWith("sub-job " + parentId + " failed: sub-job " + childId + " failed: deep failure");
        assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE status = 'waiting'"))
                .isZero();
    }

    @Test
    void waitAllResumesTheParentWithTheFailureVisibleToItsHandler() {
        Job parent = db.fixtures().processing("video", "w/parent");
        List<Long> kids = spawn(parent, 3, SubJobFailurePolicy.WAIT_ALL);
        db.outcomes().fail(claimOne(kids.get(0)).lease(), "broke", false, Duration.ZERO);
        assertThat(db.queries().find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.WAITING);
        db.outcomes().complete(claimOne(kids.get(1)).lease(), null);
        db.outcomes().complete(claimOne(kids.get(2)).lease(), null);

        Job resumed = db.queries().find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(db.queries().subJobs(parent.id()))
                .extracting(Job::status)
                .containsExactly(JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.COMPLETED);
    }

    @Test
    void retryingAFailedParentRerunsOnlyWhatFailed() {
        Job parent = db.fixtures().processing("video", "w/parent");
        List<Long> kids = spawn(parent, 4, SubJobFailurePolicy.FAIL_FAST);
        db.outcomes().complete(claimOne(kids.get(0)).lease(), params("clip", 0));
        db.outcomes().fail(claimOne(kids.get(1)).lease(), "broke", false, Duration.ZERO);
        assertThat(db.queries().find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.FAILED);

        Job retried = ((Moved) db.requests().retry(parent.id(), "operator")).job();
        assertThat(retried.status()).isEqualTo(JobStatus.WAITING);
        assertThat(retried.subjobsOpen()).isEqualTo(3);
        assertThat(retried.currentStage()).isEqualTo("rendering 1/4");
        assertThat(retried.finishedAt()).isNull();
        List<Job> subs = db.queries().subJobs(parent.id());
        assertThat(subs.getFirst().status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(subs.getFirst().result()).isEqualTo(params("clip", 0));
        assertThat(subs.subList(1, 4)).allSatisfy(s -> {
            assertThat(s.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(s.attempt()).isZero();
        });

        for (int i = 1; i < 4; i++) {
            db.outcomes().complete(claimOne(kids.get(i)).lease(), params("clip", i));
        }
        Job resumed = db.queries().find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(db.fixtures().eventKinds(parent.id()))
                .filteredOn("resumed"::equals)
                .hasSize(1);
    }

    @Test
    void retryingAParentWhoseSubJobsAllCompletedResumesAtItsResumeStage() {
        Job parent = db.fixtures().processing("video", "w/parent");
        List<Long> kids = spawn(parent, 1, SubJobFailurePolicy.FAIL_FAST);
        db.outcomes().complete(claimOne(kids.getFirst()).lease(), json("{\"clip\":0}"));
        Job stitching = claimOne(parent.id());
        assertThat(stitching.currentStage()).isEqualTo("stitching");
        db.outcomes().fail(stitching.lease(), "disk full", false, Duration.ZERO);

        Job retried = ((Moved) db.requests().retry(parent.id(), "operator")).job();
        assertThat(retried.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(retried.currentStage()).isEqualTo("stitching");
        assertThat(db.queries().subJobs(parent.id()).getFirst().status()).isEqualTo(JobStatus.COMPLETED);
    }
}
