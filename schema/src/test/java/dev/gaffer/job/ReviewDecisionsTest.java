package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.StaleRevision;
import dev.gaffer.job.Results.Transition;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.job.ReviewTrail.Review;
import dev.gaffer.testing.TestDatabase;
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
 * Decisions on a pending job's plan (issue 18): approve with a comment, reject with a reason,
 * request changes and revise, each one statement that moves the job, appends its event and its
 * row of the audit trail, or moves nothing and says why.
 */
class ReviewDecisionsTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("review_decisions");

    private static ReviewTrail trail() {
        return new ReviewTrail(db.dataSource());
    }

    private static Job pendingWithStoryboard() {
        return db.requests()
                .create(new NewJob("noop", null, 0, params("n", 1), json("{\"scenes\":[1,2]}"), 3, null, null, "sam"))
                .job();
    }

    private static Job job(long id) {
        return db.queries().find(id).orElseThrow();
    }

    @Test
    void anApprovalKeepsItsCommentAndTheRevisionItWasAbout() {
        Job j = pendingWithStoryboard();
        Job approved = ((Moved) db.requests().approve(j.id(), "rita", "lovely", 1)).job();

        assertThat(approved.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(approved.approvedBy()).isEqualTo("rita");
        assertThat(trail().ofJob(j.id())).singleElement().satisfies(r -> {
            assertThat(r.decision()).isEqualTo("approved");
            assertThat(r.reviewer()).isEqualTo("rita");
            assertThat(r.comment()).isEqualTo("lovely");
            assertThat(r.revision()).isEqualTo(1);
            assertThat(r.gate()).isEqualTo("plan");
            assertThat(r.jobType()).isEqualTo("noop");
            assertThat(r.requestedBy()).isEqualTo("sam");
            assertThat(r.decidedAt()).isNotNull();
        });
        assertThat(db.queries().events(j.id(), 0, 100))
                .extracting(JobEvent::kind, JobEvent::message)
                .contains(org.assertj.core.groups.Tuple.tuple("approved", "lovely"));
        // The seed's approval, without comment or revision, records its decision too.
        Job plain = db.fixtures().pending("noop");
        db.requests().approve(plain.id(), "tester");
        assertThat(trail().ofJob(plain.id()))
                .singleElement()
                .satisfies(r -> assertThat(r.comment()).isNull());
    }

    @Test
    void aRejectionIsTerminalNeedsAReasonAndIsNeverRetried() {
        Job j = pendingWithStoryboard();
        assertThatThrownBy(() -> db.requests().reject(j.id(), "rita", " ", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reason");
        assertThat(job(j.id()).status()).isEqualTo(JobStatus.PENDING);

        Job rejected = ((Moved) db.requests().reject(j.id(), "rita", "too expensive", null)).job();

        assertThat(rejected.status()).isEqualTo(JobStatus.REJECTED);
        assertThat(rejected.finishedAt()).isNotNull();
        assertThat(rejected.approvedBy()).isNull();
        long finishing = db.fixtures().count("SELECT finished_event_id FROM jobs WHERE id = " + j.id());
        assertThat(db.queries().events(j.id(), 0, 100))
                .filteredOn(e -> e.kind().equals("rejected"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.id()).isEqualTo(finishing);
                    assertThat(e.actor()).isEqualTo("rita");
                    assertThat(e.message()).isEqualTo("too expensive");
                });
        assertThat(db.requests().retry(j.id(), "sam")).isInstanceOf(WrongState.class);
        assertThat(db.requests().approve(j.id(), "rita")).isInstanceOf(WrongState.class);
        assertThat(db.requests().cancel(j.id(), "sam")).isInstanceOf(WrongState.class);
        assertThat(db.requests().requestChanges(j.id(), "rita", "now?", null)).isInstanceOf(WrongState.class);
        assertThat(job(j.id()).status()).isEqualTo(JobStatus.REJECTED);
        assertThat(trail().ofJob(j.id())).extracting(Review::decision).containsExactly("rejected");
    }

    @Test
    void changesRequestedThenARevisionAsksForReviewAgain() {
        Job j = pendingWithStoryboard();
        assertThat(awaiting()).contains(j.id());

        Job asked = ((Moved) db.requests().requestChanges(j.id(), "rita", "fewer scenes", 1)).job();
        assertThat(asked.status()).isEqualTo(JobStatus.PENDING);
        assertThat(awaiting()).doesNotContain(j.id());

        // A revision from a stale copy changes nothing.
        assertThat(db.requests().revise(j.id(), "sam", json("{\"scenes\":[9]}"), 2))
                .isEqualTo(new StaleRevision(j.id(), 1));
        Job revised = ((Moved) db.requests().revise(j.id(), "sam", json("{\"scenes\":[1]}"), 1)).job();
        assertThat(revised.storyboardRevision()).isEqualTo(2);
        assertThat(revised.storyboard()).isEqualTo(json("{\"scenes\":[1]}"));
        assertThat(awaiting()).contains(j.id());
        // The replaced storyboard is kept, for the reviewer to see what changed; only the stale
        // attempt above kept nothing.
        assertThat(db.queries().replacedStoryboard(j.id(), 1)).get().satisfies(old -> {
            assertThat(old.storyboard()).isEqualTo(json("{\"scenes\":[1,2]}"));
            assertThat(old.replacedBy()).isEqualTo("sam");
        });
        assertThat(db.queries().replacedStoryboard(j.id(), 2))
                .as("the current one")
                .isEmpty();
        assertThat(db.fixtures().count("SELECT count(*) FROM job_storyboards WHERE job_id = " + j.id()))
                .isEqualTo(1);

        // An approval of what the reviewer saw before the revision is refused, and changes nothing.
        assertThat(db.requests().approve(j.id(), "rita", null, 1)).isEqualTo(new StaleRevision(j.id(), 2));
        assertThat(job(j.id()).status()).isEqualTo(JobStatus.PENDING);
        assertThat(db.requests().approve(j.id(), "rita", "better", 2)).isInstanceOf(Moved.class);
        assertThat(trail().ofJob(j.id()))
                .extracting(Review::decision, Review::revision, Review::comment)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("changes_requested", 1, "fewer scenes"),
                        org.assertj.core.groups.Tuple.tuple("approved", 2, "better"));
        assertThat(db.fixtures().eventKinds(j.id()))
                .containsSubsequence("created", "changes_requested", "revised", "approved");
        // Once approved, the plan is what runs: no more revisions.
        assertThat(db.requests().revise(j.id(), "sam", json("{}"), 2)).isInstanceOf(WrongState.class);
        assertThat(db.requests().revise(Long.MAX_VALUE, "sam", json("{}"), 1)).isInstanceOf(Results.NotFound.class);
    }

    @Test
    void ofConcurrentDecisionsExactlyOneMovesTheJob() throws Exception {
        for (int round = 0; round < 5; round++) {
            Job j = pendingWithStoryboard();
            CountDownLatch start = new CountDownLatch(1);
            List<Callable<Transition>> decisions = List.of(
                    () -> {
                        start.await();
                        return db.requests().approve(j.id(), "a", null, null);
                    },
                    () -> {
                        start.await();
                        return db.requests().reject(j.id(), "b", "no", null);
                    },
                    () -> {
                        start.await();
                        return db.requests().approve(j.id(), "c", "yes", 1);
                    });
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<Transition>> results = new ArrayList<>();
            for (var d : decisions) {
                results.add(pool.submit(d));
            }
            start.countDown();
            List<Transition> outcomes = new ArrayList<>();
            for (var f : results) {
                outcomes.add(f.get());
            }
            pool.shutdown();
            assertThat(outcomes).filteredOn(t -> t instanceof Moved).hasSize(1);
            assertThat(outcomes).filteredOn(t -> t instanceof WrongState).hasSize(2);
            assertThat(trail().ofJob(j.id())).hasSize(1);
        }
    }

    @Test
    void theExportWalksEveryDecisionInOrderAndByJob() {
        Job a = pendingWithStoryboard();
        Job b = pendingWithStoryboard();
        db.requests().requestChanges(a.id(), "rita", "a first", null);
        db.requests().approve(b.id(), "rita", null, null);
        db.requests().reject(a.id(), "rita", "a then", null);

        List<Review> mine = trail().after(0, a.id(), 10);
        assertThat(mine).extracting(Review::decision).containsExactly("changes_requested", "rejected");
        List<Review> all = new ArrayList<>();
        long since = 0;
        for (List<Review> page;
                !(page = trail().after(since, null, 2)).isEmpty();
                since = page.getLast().id()) {
            all.addAll(page);
        }
        assertThat(all).extracting(Review::id).isSorted().doesNotHaveDuplicates();
        assertThat(all)
                .filteredOn(r -> r.jobId() == a.id() || r.jobId() == b.id())
                .extracting(Review::jobId, Review::decision)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(a.id(), "changes_requested"),
                        org.assertj.core.groups.Tuple.tuple(b.id(), "approved"),
                        org.assertj.core.groups.Tuple.tuple(a.id(), "rejected"));
    }

    @Test
    void theTableKeepsItsInvariantsWhoeverWrites() {
        Job j = pendingWithStoryboard();
        assertThatThrownBy(() -> db.fixtures()
                        .exec("INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer) VALUES ("
                                + j.id() + ", 'noop', 1, 'rejected', 'rita')"))
                .hasMessageContaining("job_reviews_reason_given");
        assertThatThrownBy(() -> db.fixtures().exec("UPDATE jobs SET status = 'rejected' WHERE id = " + j.id()))
                .hasMessageContaining("jobs_finished_iff_terminal");
        assertThatThrownBy(() -> db.fixtures().exec("UPDATE jobs SET storyboard_revision = 0 WHERE id = " + j.id()))
                .hasMessageContaining("jobs_storyboard_revision_positive");
        db.requests().approve(j.id(), "rita");
        assertThatThrownBy(() -> db.fixtures()
                        .exec("UPDATE jobs SET status = 'rejected', finished_at = now(), finished_event_id = 1"
                                + " WHERE id = " + j.id()))
                .hasMessageContaining("jobs_rejected_never_approved");
        assertThatThrownBy(() -> db.fixtures().exec("UPDATE job_reviews SET comment = 'x' WHERE job_id = " + j.id()))
                .hasMessageContaining("audit trail");
        assertThatThrownBy(() -> db.fixtures().exec("DELETE FROM job_reviews WHERE job_id = " + j.id()))
                .hasMessageContaining("younger than 30 days");
        assertThatThrownBy(() -> db.fixtures().exec("TRUNCATE job_reviews")).hasMessageContaining("TRUNCATE refused");
        assertThat(trail().ofJob(j.id())).hasSize(1);
    }

    private static List<Long> awaiting() {
        return trail().awaiting(0, 200).stream().map(Job::id).toList();
    }
}
