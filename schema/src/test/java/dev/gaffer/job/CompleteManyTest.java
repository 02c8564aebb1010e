package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.job.OutcomeStore.Completion;
import dev.gaffer.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class CompleteManyTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("complete_many");

    @BeforeEach
    void emptyQueue() {
        db.fixtures().cancelUnfinished();
    }

    @Test
    void completesEveryJobWhoseLeaseHoldsInOneStatement() {
        Job a = db.fixtures().processing("noop", "w/1");
        Job b = db.fixtures().processing("noop", "w/1");
        Job c = db.fixtures().processing("noop", "w/1");
        var done = db.outcomes()
                .completeMany(
                        "w/1",
                        List.of(
                                new Completion(b.lease(), json("{\"n\":2}")),
                                new Completion(a.lease(), null),
                                new Completion(c.lease(), json("{\"n\":3}"))));
        assertThat(done).containsExactlyInAnyOrder(a.id(), b.id(), c.id());
        for (Job j : List.of(a, b, c)) {
            Job after = db.queries().find(j.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(after.lockedBy()).isNull();
            assertThat(after.heartbeatAt()).isNull();
            assertThat(after.progressPercentage()).isEqualTo(100);
            assertThat(db.fixtures().eventKinds(j.id())).endsWith("completed");
        }
        assertThat(db.queries().find(a.id()).orElseThrow().result()).isNull();
        assertThat(db.queries().find(b.id()).orElseThrow().result()).isEqualTo(json("{\"n\":2}"));
    }

    @Test
    void leavesOutAJobThatWasCancelledOrReclaimedMeanwhile() {
        Job kept = db.fixtures().processing("noop", "w/1");
        Job cancelled = db.fixtures().processing("noop", "w/1");
        Job reclaimed = db.fixtures().processing("noop", "w/1");
        db.requests().cancel(cancelled.id(), "bob");
        db.fixtures().ageHeartbeat(reclaimed.id(), 600);
        db.reclaims().reclaimExpired(100);
        Job again = db.leases().claim("w/2", List.of("default"), 1, List.of()).getFirst();
        assertThat(again.id()).isEqualTo(reclaimed.id());

        var done = db.outcomes()
                .completeMany(
                        "w/1",
                        List.of(
                                new Completion(kept.lease(), null),
                                new Completion(cancelled.lease(), null),
                                new Completion(reclaimed.lease(), null)));

        assertThat(done).containsExactly(kept.id());
        assertThat(db.queries().find(cancelled.id()).orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
        Job stillRunning = db.queries().find(reclaimed.id()).orElseThrow();
        assertThat(stillRunning.status()).isEqualTo(JobStatus.PROCESSING);
        assertThat(stillRunning.lockedBy()).isEqualTo("w/2");
        assertThat(stillRunning.attempt()).isEqualTo(2);
    }

    @Test
    void completingTwiceCompletesNothingTheSecondTime() {
        Job a = db.fixtures().processing("noop", "w/1");
        assertThat(db.outcomes().completeMany("w/1", List.of(new Completion(a.lease(), null))))
                .containsExactly(a.id());
        assertThat(db.outcomes().completeMany("w/1", List.of(new Completion(a.lease(), null))))
                .isEmpty();
        assertThat(db.fixtures()
                        .count("SELECT count(*) FROM job_history WHERE kind = 'completed' AND job_id = " + a.id()))
                .isEqualTo(1);
    }

    @Test
    void lastSubJobsOfAParentResumeIt() {
        Job parent = db.fixtures().processing("video", "w/1");
        db.outcomes()
                .waitForSubJobs(
                        parent.lease(),
                        List.of(SubJob.of("scene", null), SubJob.of("scene", null)),
                        "rendering",
                        "stitch");
        List<Job> children = db.leases().claim("w/1", List.of("default"), 2, List.of());
        assertThat(children).hasSize(2);

        var done = db.outcomes()
                .completeMany(
                        "w/1",
                        children.stream()
                                .map(j -> new Completion(j.lease(), null))
                                .toList());

        assertThat(done).hasSize(2);
        Job resumed = db.queries().find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.subjobsOpen()).isZero();
        assertThat(resumed.currentStage()).isEqualTo("stitch");
    }

    @Test
    void refusesAnotherWorkersLeaseAndAJobListedTwice() {
        Job a = db.fixtures().processing("noop", "w/1");
        assertThatThrownBy(() -> db.outcomes().completeMany("w/2", List.of(new Completion(a.lease(), null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("belongs to w/1");
        assertThatThrownBy(() -> db.outcomes()
                        .completeMany("w/1", List.of(new Completion(a.lease(), null), new Completion(a.lease(), null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listed twice");
        assertThat(db.queries().find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
    }
}
