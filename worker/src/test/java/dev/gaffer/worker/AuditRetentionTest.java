package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.job.Job;
import dev.gaffer.job.ReviewTrail;
import dev.gaffer.testing.TestDatabase;
import dev.gaffer.worker.maintenance.Pruner;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The audit trail's own retention: decisions outlive the jobs they were about (issue 18). */
class AuditRetentionTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("audit_retention");

    @Test
    void decisionsOutliveTheirPrunedJobsAndGoOnlyAfterTheAuditRetention() {
        Job kept = db.fixtures().pending("noop");
        Job old = db.fixtures().pending("noop");
        db.requests().reject(kept.id(), "reviewer", "not this one", null);
        db.requests().reject(old.id(), "reviewer", "nor this one", null);
        db.fixtures()
                .exec("UPDATE jobs SET finished_at = now() - interval '8 days' WHERE id IN (" + kept.id() + ", "
                        + old.id() + ")");
        // Only the owner, knowingly, can age a decision: the trail refuses every UPDATE.
        db.fixtures()
                .exec("ALTER TABLE job_reviews DISABLE TRIGGER job_reviews_append_only;"
                        + " UPDATE job_reviews SET decided_at = now() - interval '401 days' WHERE job_id = " + old.id()
                        + "; ALTER TABLE job_reviews ENABLE TRIGGER job_reviews_append_only");
        ReviewTrail trail = new ReviewTrail(db.dataSource());

        new Pruner(db.reclaims(), trail, Pruner.Config.of(Duration.ofDays(7), Duration.ofDays(400))).runOnce();

        assertThat(db.queries().find(kept.id())).isEmpty();
        assertThat(db.queries().find(old.id())).isEmpty();
        assertThat(trail.ofJob(kept.id()))
                .singleElement()
                .satisfies(r -> assertThat(r.comment()).isEqualTo("not this one"));
        assertThat(trail.ofJob(old.id())).isEmpty();
        assertThatThrownBy(() -> Pruner.Config.of(Duration.ofDays(7), Duration.ofDays(29)))
                .hasMessageContaining("at least 30 days");
    }

    @Test
    void thePruningTaskCancelsJobsWhoseReviewExpired() {
        ReviewTrail trail = new ReviewTrail(db.dataSource());
        trail.setPolicy("sleep", "approve", false, Duration.ofMinutes(30), "ops");
        Job idle = db.fixtures().pending("sleep");
        db.fixtures().exec("UPDATE jobs SET updated_at = now() - interval '31 minutes' WHERE id = " + idle.id());

        new Pruner(db.reclaims(), trail, Pruner.Config.of(Duration.ofDays(7), Duration.ofDays(400))).runOnce();

        assertThat(db.queries().find(idle.id()).orElseThrow().status()).isEqualTo(dev.gaffer.job.JobStatus.CANCELLED);
        assertThat(trail.ofJob(idle.id()))
                .singleElement()
                .satisfies(r -> assertThat(r.decision()).isEqualTo("expired"));
    }
}
