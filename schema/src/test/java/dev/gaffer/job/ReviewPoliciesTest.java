package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Refused;
import dev.gaffer.job.ReviewTrail.Review;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Review policies (review_policies, V015), enforced by PostgreSQL on every decision whoever
 * writes it, and the expiry that the workers' maintenance applies.
 */
class ReviewPoliciesTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("review_policies");

    private static ReviewTrail trail() {
        return new ReviewTrail(db.dataSource());
    }

    private static Job pendingBy(String type, String requester) {
        return db.requests()
                .create(new NewJob(type, null, 0, params("n", 1), null, 3, null, null, requester))
                .job();
    }

    @Test
    void fourEyesRefusesTheRequestersOwnApprovalAndNothingChanges() {
        trail().setPolicy("noop", "approve", true, null, "ops");
        Job j = pendingBy("noop", "sam");

        var own = db.requests().approve(j.id(), "sam", "mine, fine", null);
        assertThat(own).isInstanceOf(Refused.class);
        assertThat(((Refused) own).reason()).contains("four eyes").contains("sam");
        assertThat(db.queries().find(j.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        assertThat(trail().ofJob(j.id())).isEmpty();
        assertThat(db.fixtures().eventKinds(j.id())).containsExactly("created");

        // Asking for changes to one's own job, or turning it down, is not an approval.
        assertThat(db.requests().requestChanges(j.id(), "sam", "on second thought", null))
                .isInstanceOf(Moved.class);
        assertThat(db.requests().approve(j.id(), "rita", null, null)).isInstanceOf(Moved.class);
        // The database refuses it whoever writes it, the owner at a psql prompt included.
        Job other = pendingBy("noop", "sam");
        assertThatThrownBy(() -> db.fixtures()
                        .exec("INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer, requested_by)"
                                + " VALUES (" + other.id() + ", 'noop', 1, 'approved', 'sam', 'sam')"))
                .hasMessageContaining("four eyes");
        // Other types keep the defaults.
        Job video = pendingBy("sleep", "sam");
        assertThat(db.requests().approve(video.id(), "sam")).isInstanceOf(Moved.class);
    }

    @Test
    void aPolicyRoleRefusesKeysBelowIt() {
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        keys.create("lead", ApiKeyRole.ADMIN);
        keys.create("rita", ApiKeyRole.APPROVE);
        trail().setPolicy("noop", "admin", false, null, "ops");
        Job j = pendingBy("noop", "sam");

        var refused = db.requests().reject(j.id(), "rita", "no", null);
        assertThat(refused).isInstanceOf(Refused.class);
        assertThat(((Refused) refused).reason())
                .contains("rita has role approve")
                .contains("needs admin");
        assertThat(db.requests().approve(j.id(), "lead", null, null)).isInstanceOf(Moved.class);
        assertThat(trail().ofJob(j.id())).extracting(Review::reviewer).containsExactly("lead");
    }

    @Test
    void aPendingJobIdleLongerThanItsExpiryIsCancelledWithTheDecisionExpired() {
        trail().setPolicy("noop", "approve", false, Duration.ofHours(12), "ops");
        Job stale = pendingBy("noop", "sam");
        Job fresh = pendingBy("noop", "sam");
        Job otherType = pendingBy("sleep", "sam");
        db.fixtures()
                .exec("UPDATE jobs SET updated_at = now() - interval '13 hours' WHERE id IN (" + stale.id() + ", "
                        + otherType.id() + ")");

        assertThat(trail().expire(100)).isEqualTo(1);

        Job cancelled = db.queries().find(stale.id()).orElseThrow();
        assertThat(cancelled.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(trail().ofJob(stale.id())).singleElement().satisfies(r -> {
            assertThat(r.decision()).isEqualTo("expired");
            assertThat(r.reviewer()).isEqualTo("gaffer");
            assertThat(r.comment()).contains("12:00:00");
        });
        assertThat(db.queries().events(stale.id(), 0, 10))
                .filteredOn(e -> e.kind().equals("cancelled"))
                .singleElement()
                .satisfies(e -> assertThat(e.message()).startsWith("review expired"));
        assertThat(db.queries().find(fresh.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        assertThat(db.queries().find(otherType.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        assertThat(trail().expire(100)).isZero();
    }

    @Test
    void anEscalatingPolicyLeavesTheJobPendingAndFromThenOnOnlyAnAdminDecides() {
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        keys.create("rita", ApiKeyRole.APPROVE);
        keys.create("lead", ApiKeyRole.ADMIN);
        trail().setPolicy("noop", "plan", "approve", false, Duration.ofHours(1), 1, ReviewTrail.ESCALATE, "ops");
        Job idle = pendingBy("noop", "sam");
        assertThat(trail().awaiting(0, 100, "approve")).extracting(Job::id).contains(idle.id());
        db.fixtures().exec("UPDATE jobs SET updated_at = now() - interval '2 hours' WHERE id = " + idle.id());

        assertThat(trail().expire(100)).isEqualTo(1);
        assertThat(db.queries().find(idle.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        assertThat(trail().ofJob(idle.id())).singleElement().satisfies(r -> {
            assertThat(r.decision()).isEqualTo("escalated");
            assertThat(r.reviewer()).isEqualTo("gaffer");
            assertThat(r.comment()).contains("an admin decides");
        });
        assertThat(db.fixtures().eventKinds(idle.id())).containsExactly("created", "escalated");
        // Escalated once: the next pass leaves it alone.
        assertThat(trail().expire(100)).isZero();
        assertThat(trail().awaiting(0, 100, "approve")).extracting(Job::id).doesNotContain(idle.id());
        assertThat(trail().awaiting(0, 100, "admin")).extracting(Job::id).contains(idle.id());

        var refused = db.requests().approve(idle.id(), "rita", null, null);
        assertThat(refused).isInstanceOf(Refused.class);
        assertThat(((Refused) refused).reason()).contains("escalated").contains("an admin decides");
        assertThatThrownBy(() -> db.fixtures()
                        .exec("INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer, requested_by,"
                                + " comment) VALUES (" + idle.id() + ", 'noop', 1, 'rejected', 'rita', 'sam', 'no')"))
                .hasMessageContaining("needs admin");
        assertThat(db.requests().approve(idle.id(), "lead", "taking it", null)).isInstanceOf(Moved.class);

        // A revision is a new review: the policy's own role decides it again.
        Job revised = pendingBy("noop", "sam");
        db.fixtures().exec("UPDATE jobs SET updated_at = now() - interval '2 hours' WHERE id = " + revised.id());
        assertThat(trail().expire(100)).isEqualTo(1);
        assertThat(db.requests().requestChanges(revised.id(), "lead", "shorter", 1))
                .isInstanceOf(Moved.class);
        assertThat(db.requests().revise(revised.id(), "sam", JobFixtures.json("{\"v\":2}"), 1))
                .isInstanceOf(Moved.class);
        assertThat(db.requests().approve(revised.id(), "rita", null, 2)).isInstanceOf(Moved.class);

        // Escalation needs an expiry; the database says so too.
        assertThatThrownBy(
                        () -> trail().setPolicy("noop", "plan", "approve", false, null, 1, ReviewTrail.ESCALATE, "ops"))
                .hasMessageContaining("review_policies_escalation_expires");
    }

    @Test
    void policiesAreDataWithChecks() {
        var set = trail().setPolicy("video", "admin", true, Duration.ofDays(7), "ops");
        assertThat(set.expiresAfter()).isEqualTo(Duration.ofDays(7));
        assertThat(set.updatedBy()).isEqualTo("ops");
        var replaced = trail().setPolicy("video", "approve", false, null, "lead");
        assertThat(replaced.expiresAfter()).isNull();
        assertThat(replaced.fourEyes()).isFalse();
        assertThat(trail().policies()).extracting(ReviewTrail.Policy::jobType).containsExactly("video");
        assertThatThrownBy(() -> trail().setPolicy("video", "read", false, null, "ops"))
                .hasMessageContaining("review_policies_role_decides");
        assertThatThrownBy(() -> trail().setPolicy("video", "approve", false, Duration.ofSeconds(5), "ops"))
                .hasMessageContaining("review_policies_expiry_range");
        assertThat(trail().deletePolicy("video")).isTrue();
        assertThat(trail().deletePolicy("video")).isFalse();
        assertThat(trail().policies()).isEmpty();
    }

    @Test
    void aQuorumNeedsThatManyDistinctReviewersOfTheSameRevision() {
        trail().setPolicy("noop", "approve", false, null, 2, "ops");
        Job j = pendingBy("noop", "sam");

        Job first = ((Moved) db.requests().approve(j.id(), "rita", "one", null)).job();
        assertThat(first.status()).isEqualTo(JobStatus.PENDING);
        assertThat(first.approvedBy()).isNull();
        var twice = db.requests().approve(j.id(), "rita", "again", null);
        assertThat(twice).isInstanceOf(Refused.class);
        assertThat(((Refused) twice).reason()).contains("already approved");

        // A revision starts the count again.
        db.requests().revise(j.id(), "sam", JobFixtures.json("{\"v\":2}"), 1);
        assertThat(((Moved) db.requests().approve(j.id(), "rita", null, 2))
                        .job()
                        .status())
                .isEqualTo(JobStatus.PENDING);
        Job second = ((Moved) db.requests().approve(j.id(), "lee", null, 2)).job();
        assertThat(second.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(second.approvedBy()).isEqualTo("lee");
        assertThat(trail().ofJob(j.id()))
                .extracting(r -> r.reviewer() + "@" + r.revision())
                .containsExactly("rita@1", "rita@2", "lee@2");
        assertThat(db.queries().events(j.id(), 0, 20))
                .filteredOn(e -> e.kind().equals("approved"))
                .extracting(JobEvent::message)
                .containsExactly("approval 1 of 2: one", "approval 1 of 2", null);
    }

    @Test
    void concurrentApprovalsTowardAQuorumAreEachCountedOnce() throws Exception {
        trail().setPolicy("noop", "approve", false, null, 3, "ops");
        for (int round = 0; round < 5; round++) {
            Job j = pendingBy("noop", "sam");
            var start = new java.util.concurrent.CountDownLatch(1);
            var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            var results = new java.util.ArrayList<java.util.concurrent.Future<Results.Transition>>();
            for (String who : java.util.List.of("a", "b", "c")) {
                results.add(pool.submit(() -> {
                    start.await();
                    return db.requests().approve(j.id(), who, null, null);
                }));
            }
            start.countDown();
            for (var f : results) {
                assertThat(f.get()).isInstanceOf(Moved.class);
            }
            pool.shutdown();
            Job after = db.queries().find(j.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(trail().ofJob(j.id())).hasSize(3);
        }
    }
}
