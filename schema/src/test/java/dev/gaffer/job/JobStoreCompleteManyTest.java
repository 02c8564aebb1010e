package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.db.Database;
import dev.gaffer.job.JobStore.Completion;
import dev.gaffer.testing.TestPostgres;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JobStoreCompleteManyTest {

    static Database db;
    static JobStore store;
    static JobFixtures fx;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("complete_many");
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
    void completesEveryJobWhoseLeaseHoldsInOneStatement() {
        Job a = fx.processing("noop", "w/1");
        Job b = fx.processing("noop", "w/1");
        Job c = fx.processing("noop", "w/1");
        var done = store.completeMany(
                "w/1",
                List.of(
                        new Completion(b.lease(), json("{\"n\":2}")),
                        new Completion(a.lease(), null),
                        new Completion(c.lease(), json("{\"n\":3}"))));
        assertThat(done).containsExactlyInAnyOrder(a.id(), b.id(), c.id());
        for (Job j : List.of(a, b, c)) {
            Job after = store.find(j.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(after.lockedBy()).isNull();
            assertThat(after.heartbeatAt()).isNull();
            assertThat(after.progressPercentage()).isEqualTo(100);
            assertThat(fx.eventKinds(j.id())).endsWith("completed");
        }
        assertThat(store.find(a.id()).orElseThrow().result()).isNull();
        assertThat(store.find(b.id()).orElseThrow().result()).isEqualTo(json("{\"n\":2}"));
    }

    @Test
    void leavesOutAJobThatWasCancelledOrReclaimedMeanwhile() {
        Job kept = fx.processing("noop", "w/1");
        Job cancelled = fx.processing("noop", "w/1");
        Job reclaimed = fx.processing("noop", "w/1");
        store.cancel(cancelled.id(), "bob");
        fx.ageHeartbeat(reclaimed.id(), 600);
        store.reclaimExpired(100);
        Job again = store.claim("w/2", List.of("default"), 1, List.of()).getFirst();
        assertThat(again.id()).isEqualTo(reclaimed.id());

        var done = store.completeMany(
                "w/1",
                List.of(
                        new Completion(kept.lease(), null),
                        new Completion(cancelled.lease(), null),
                        new Completion(reclaimed.lease(), null)));

        assertThat(done).containsExactly(kept.id());
        assertThat(store.find(cancelled.id()).orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
        Job stillRunning = store.find(reclaimed.id()).orElseThrow();
        assertThat(stillRunning.status()).isEqualTo(JobStatus.PROCESSING);
        assertThat(stillRunning.lockedBy()).isEqualTo("w/2");
        assertThat(stillRunning.attempt()).isEqualTo(2);
    }

    @Test
    void completingTwiceCompletesNothingTheSecondTime() {
        Job a = fx.processing("noop", "w/1");
        assertThat(store.completeMany("w/1", List.of(new Completion(a.lease(), null))))
                .containsExactly(a.id());
        assertThat(store.completeMany("w/1", List.of(new Completion(a.lease(), null))))
                .isEmpty();
        assertThat(fx.count("SELECT count(*) FROM job_events WHERE kind = 'completed' AND job_id = " + a.id()))
                .isEqualTo(1);
    }

    @Test
    void lastSubJobsOfAParentResumeIt() {
        Job parent = fx.processing("video", "w/1");
        store.waitForSubJobs(
                parent.lease(), List.of(SubJob.of("scene", null), SubJob.of("scene", null)), "rendering", "stitch");
        List<Job> children = store.claim("w/1", List.of("default"), 2, List.of());
        assertThat(children).hasSize(2);

        var done = store.completeMany(
                "w/1",
                children.stream().map(j -> new Completion(j.lease(), null)).toList());

        assertThat(done).hasSize(2);
        Job resumed = store.find(parent.id()).orElseThrow();
        assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(resumed.subjobsOpen()).isZero();
        assertThat(resumed.currentStage()).isEqualTo("stitch");
    }

    @Test
    void refusesAnotherWorkersLeaseAndAJobListedTwice() {
        Job a = fx.processing("noop", "w/1");
        assertThatThrownBy(() -> store.completeMany("w/2", List.of(new Completion(a.lease(), null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("belongs to w/1");
        assertThatThrownBy(() -> store.completeMany(
                        "w/1", List.of(new Completion(a.lease(), null), new Completion(a.lease(), null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listed twice");
        assertThat(store.find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
    }
}
