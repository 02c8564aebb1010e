package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Refused;
import dev.gaffer.job.Results.StaleRevision;
import dev.gaffer.job.Results.Transition;
import dev.gaffer.job.Results.Written;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.job.ReviewTrail.Review;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Gates at any stage (issue 18, V018): a running job stops for a person's decision, holding no
 * lease, and the decisions on a plan apply to it with their gate: approve resumes it, request
 * changes sends it back to the stage that made what was reviewed, reject fails it.
 */
class ReviewGatesTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("review_gates");

    private static ReviewTrail trail() {
        return new ReviewTrail(db.dataSource());
    }

    private static Job job(long id) {
        return db.queries().find(id).orElseThrow();
    }

    /** A job of {@code type} created by sam, approved by rita and claimed by {@code worker}. */
    private static Job running(String type, String worker) {
        Job j = db.requests()
                .create(new NewJob(type, null, 0, params("n", 1), null, 3, null, null, "sam"))
                .job();
        assertThat(db.requests().approve(j.id(), "rita")).isInstanceOf(Moved.class);
        return claim(worker, j.id());
    }

    private static Job claim(String worker, long id) {
        List<Job> got = db.leases().claim(worker, List.of("default"), 1, List.of());
        assertThat(got).singleElement().extracting(Job::id).isEqualTo(id);
        return got.getFirst();
    }

    private static void gate(Job claimed, String gate) {
        assertThat(db.outcomes()
                        .awaitReview(
                                claimed.lease(),
                                false,
                                gate,
                                "stitching",
                                "rendering",
                                json("{\"clips\":[\"/a.mp4\",\"/b.mp4\"]}")))
                .isEqualTo(new Written(claimed.id(), JobStatus.PENDING, null));
    }

    @Test
    void aGateHoldsNoLeaseAndAnApprovalResumesTheJobAtItsResumeStage() {
        Job claimed = running("video", "w/1");
        gate(claimed, "scenes");

        Job waiting = job(claimed.id());
        assertThat(waiting.status()).isEqualTo(JobStatus.PENDING);
        assertThat(waiting.reviewGate()).isEqualTo("scenes");
        assertThat(waiting.reviewSummary()).isEqualTo(json("{\"clips\":[\"/a.mp4\",\"/b.mp4\"]}"));
        assertThat(waiting.currentStage()).isEqualTo("awaiting review: scenes");
        assertThat(waiting.lockedBy()).isNull();
        assertThat(waiting.leaseExpiresAt()).isNull();
        assertThat(waiting.attempt()).as("the attempt is given back").isZero();
        assertThat(waiting.approvedBy()).isEqualTo("rita");
        assertThat(db.fixtures().eventKinds(claimed.id())).containsSubsequence("approved", "awaiting_review");
        // Nothing to reclaim however long it waits; no worker claims it either.
        db.fixtures().exec("UPDATE jobs SET updated_at = now() - interval '1 day' WHERE id = " + claimed.id());
        assertThat(db.reclaims().reclaimExpired(100).requeued()).isZero();
        assertThat(db.leases().claim("w/2", List.of("default"), 10, List.of())).isEmpty();
        assertThat(trail().awaiting(0, 100)).extracting(Job::id).contains(claimed.id());
        // The old lease can write nothing now.
        assertThat(db.outcomes().fail(claimed.lease(), "late", false, Duration.ZERO))
                .isInstanceOf(LeaseLost.class);

        Job approved = ((Moved) db.requests().approve(claimed.id(), "lee", "clips look right", 1, "scenes")).job();
        assertThat(approved.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(approved.currentStage()).isEqualTo("stitching");
        assertThat(approved.approvedBy()).as("the plan's approver stays").isEqualTo("rita");
        assertThat(trail().ofJob(claimed.id()))
                .extracting(Review::gate, Review::revision, Review::decision)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("plan", 1, "approved"),
                        org.assertj.core.groups.Tuple.tuple("scenes", 1, "approved"));

        Job resumed = claim("w/2", claimed.id());
        assertThat(resumed.currentStage()).isEqualTo("stitching");
        assertThat(resumed.attempt()).isEqualTo(1);
        assertThat(db.outcomes().complete(resumed.lease(), json("{\"ok\":true}")))
                .isInstanceOf(Written.class);
        assertThat(job(claimed.id()).status()).isEqualTo(JobStatus.COMPLETED);
    }

    @Test
    void requestChangesSendsTheJobBackToItsRedoStageAndTheNextStopIsReviewedAfresh() {
        Job claimed = running("video", "w/1");
        gate(claimed, "scenes");

        Job back = ((Moved) db.requests().requestChanges(claimed.id(), "lee", "scene 2 is too dark", null, "scenes"))
                .job();
        assertThat(back.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(back.currentStage()).isEqualTo("rendering");
        Job again = claim("w/1", claimed.id());
        assertThat(again.currentStage()).isEqualTo("rendering");
        gate(again, "scenes");
        // The second stop is revision 2: the same reviewer approves it, and a stale decision on
        // the first stop changes nothing.
        assertThat(db.requests().approve(claimed.id(), "lee", null, 1, "scenes"))
                .isEqualTo(new StaleRevision(claimed.id(), 2));
        assertThat(db.requests().approve(claimed.id(), "lee", null, 2, "scenes"))
                .isInstanceOf(Moved.class);
        assertThat(trail().ofJob(claimed.id()))
                .extracting(Review::gate, Review::revision, Review::decision, Review::comment)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("plan", 1, "approved", null),
                        org.assertj.core.groups.Tuple.tuple("scenes", 1, "changes_requested", "scene 2 is too dark"),
                        org.assertj.core.groups.Tuple.tuple("scenes", 2, "approved", null));
    }

    @Test
    void aRejectionAtAGateFailsTheJobWithTheReasonAndARetryMakesAndReviewsItAgain() {
        Job claimed = running("video", "w/1");
        gate(claimed, "scenes");

        assertThatThrownBy(() -> db.requests().reject(claimed.id(), "lee", " ", null, "scenes"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reason");
        Job failed = ((Moved) db.requests().reject(claimed.id(), "lee", "wrong colours", null, "scenes")).job();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.lastError()).contains("gate scenes").contains("lee").contains("wrong colours");
        assertThat(failed.finishedAt()).isNotNull();
        assertThat(db.fixtures().eventKinds(claimed.id())).last().isEqualTo("rejected");

        Job retried = ((Moved) db.requests().retry(claimed.id(), "sam")).job();
        assertThat(retried.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(retried.currentStage())
                .as("the redo stage, not past the gate")
                .isEqualTo("rendering");
    }

    @Test
    void aDecisionOnAGateThatIsNotOpenChangesNothingAndSaysWhatIsOpen() {
        Job claimed = running("video", "w/1");
        // Processing: no review is open.
        Transition early = db.requests().approve(claimed.id(), "lee", null, null, "scenes");
        assertThat(early).isInstanceOf(WrongState.class);
        assertThat(((WrongState) early).actual()).isEqualTo(JobStatus.PROCESSING);
        gate(claimed, "scenes");

        Transition wrong = db.requests().approve(claimed.id(), "lee", null, null, "plan");
        assertThat(wrong).isInstanceOf(WrongState.class);
        assertThat(((WrongState) wrong).reason()).contains("'scenes'").contains("'plan'");
        // The storyboard is the plan's; at a later gate it is not revised.
        assertThat(db.requests().revise(claimed.id(), "sam", json("{\"scenes\":[]}"), 1))
                .isInstanceOf(WrongState.class);
        assertThat(job(claimed.id()).status()).isEqualTo(JobStatus.PENDING);
        assertThat(trail().ofJob(claimed.id())).hasSize(1);
    }

    @Test
    void aGatesPolicyIsEnforcedInTheDatabaseFourEyesRoleAndQuorum() throws Exception {
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        keys.create("lee", ApiKeyRole.APPROVE);
        keys.create("kim", ApiKeyRole.APPROVE);
        keys.create("boss", ApiKeyRole.ADMIN);
        trail().setPolicy("video", "scenes", "approve", true, null, 2, "ops");
        Job claimed = running("video", "w/1");
        gate(claimed, "scenes");

        // Four eyes at the gate: sam requested the job.
        Transition own = db.requests().approve(claimed.id(), "sam", null, null, null);
        assertThat(own).isInstanceOf(Refused.class);
        assertThat(((Refused) own).reason()).contains("four eyes").contains("gate scenes");
        assertThatThrownBy(() -> db.fixtures()
                        .exec(
                                "INSERT INTO job_reviews (job_id, job_type, gate, revision, decision, reviewer, requested_by)"
                                        + " VALUES (" + claimed.id()
                                        + ", 'video', 'scenes', 1, 'approved', 'sam', 'sam')"))
                .hasMessageContaining("four eyes");

        // A quorum of two, approving at the same moment: both count, the job resumes once.
        List<Transition> both = concurrently(List.of(
                () -> db.requests().approve(claimed.id(), "lee", null, 1, "scenes"),
                () -> db.requests().approve(claimed.id(), "kim", null, 1, "scenes")));
        assertThat(both).allMatch(t -> t instanceof Moved);
        assertThat(both.stream().map(t -> ((Moved) t).job().status()))
                .containsExactlyInAnyOrder(JobStatus.PENDING, JobStatus.APPROVED);
        assertThat(job(claimed.id()).currentStage()).isEqualTo("stitching");

        // A role above approve: the approvers' keys may not decide, and the list of what awaits
        // them leaves the job out.
        trail().setPolicy("video", "scenes", "admin", false, null, 1, "ops");
        db.fixtures().cancelUnfinished();
        Job second = running("video", "w/1");
        gate(second, "scenes");
        assertThat(trail().awaiting(0, 100, "approve")).extracting(Job::id).doesNotContain(second.id());
        assertThat(trail().awaiting(0, 100, "admin")).extracting(Job::id).contains(second.id());
        assertThat(db.requests().reject(second.id(), "lee", "no", null, null)).isInstanceOf(Refused.class);
        assertThat(db.requests().approve(second.id(), "boss", null, null, null)).isInstanceOf(Moved.class);
    }

    @Test
    void concurrentDecisionsOnOneGateHaveExactlyOneWinner() throws Exception {
        for (int round = 0; round < 5; round++) {
            Job claimed = running("video", "w/1");
            gate(claimed, "scenes");
            List<Transition> results = concurrently(List.of(
                    () -> db.requests().approve(claimed.id(), "lee", null, null, "scenes"),
                    () -> db.requests().reject(claimed.id(), "kim", "no", null, "scenes"),
                    () -> db.requests().requestChanges(claimed.id(), "ann", "again", null, "scenes")));
            assertThat(results.stream().filter(t -> t instanceof Moved)).hasSize(1);
            assertThat(results.stream().filter(t -> !(t instanceof Moved))).allMatch(t -> t instanceof WrongState);
            long decisions = trail().ofJob(claimed.id()).stream()
                    .filter(r -> r.gate().equals("scenes"))
                    .count();
            assertThat(decisions).isEqualTo(1);
            db.fixtures().cancelUnfinished();
        }
    }

    @Test
    void anExpiredGateIsCancelledWithItsDecisionInTheTrail() {
        trail().setPolicy("video", "scenes", "approve", false, Duration.ofHours(1), 1, "ops");
        Job claimed = running("video", "w/1");
        gate(claimed, "scenes");
        assertThat(trail().expire(10)).isZero();
        db.fixtures().exec("UPDATE jobs SET updated_at = now() - interval '2 hours' WHERE id = " + claimed.id());
        assertThat(trail().expire(10)).isEqualTo(1);
        assertThat(job(claimed.id()).status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(trail().ofJob(claimed.id())).last().satisfies(r -> {
            assertThat(r.gate()).isEqualTo("scenes");
            assertThat(r.decision()).isEqualTo("expired");
            assertThat(r.revision()).isEqualTo(1);
        });
    }

    @Test
    void onlyTheLeaseHolderOfATopLevelJobStopsAtAGate() {
        Job claimed = running("video", "w/1");
        var stale = new Lease(claimed.id(), claimed.attempt() + 1, "w/1");
        assertThat(db.outcomes().awaitReview(stale, false, "scenes", "stitching", null, null))
                .isEqualTo(new LeaseLost(stale));
        assertThat(job(claimed.id()).status()).isEqualTo(JobStatus.PROCESSING);
        assertThatThrownBy(() -> db.outcomes().awaitReview(claimed.lease(), true, "scenes", "stitching", null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("top-level");

        var spawned = (Results.Spawned) db.outcomes()
                .waitForSubJobs(claimed.lease(), List.of(SubJob.of("scene", null)), "rendering", "stitching");
        long child = spawned.subJobIds().getFirst();
        // The database refuses a sub-job at a gate whoever writes it.
        assertThatThrownBy(() -> db.fixtures()
                        .exec("UPDATE jobs SET status = 'pending', review_gate = 'scenes', gate_round = 1 WHERE id = "
                                + child))
                .hasMessageContaining("jobs_review_gate_rules");
        // A job that was never approved has no gate after its plan.
        Job pending = db.fixtures().pending("noop");
        assertThatThrownBy(() -> db.fixtures()
                        .exec("UPDATE jobs SET review_gate = 'scenes', gate_round = 1 WHERE id = " + pending.id()))
                .hasMessageContaining("jobs_review_gate_rules");
    }

    private static List<Transition> concurrently(List<Callable<Transition>> calls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(calls.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Transition>> futures = new ArrayList<>();
            for (Callable<Transition> call : calls) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return call.call();
                }));
            }
            go.countDown();
            List<Transition> out = new ArrayList<>();
            for (Future<Transition> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
