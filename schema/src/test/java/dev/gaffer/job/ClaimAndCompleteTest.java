package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.job.OutcomeStore.Completion;
import dev.gaffer.testing.TestDatabase;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker's round in one statement: the finished jobs completed (fenced) and the next ones
 * claimed, and the history it leaves: one row per attempt, written when the attempt ends, with
 * its worker and its start.
 */
class ClaimAndCompleteTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("claim_and_complete");

    @BeforeEach
    void emptyQueue() {
        db.fixtures().cancelUnfinished();
    }

    private LeaseStore.Round round(String worker, int limit, List<Completion> completions) {
        return db.leases()
                .claimAndComplete(
                        worker,
                        List.of("default"),
                        Collections.singletonList(null),
                        null,
                        limit,
                        List.of(),
                        LeaseStore.DEFAULT_LEASE,
                        completions);
    }

    @Test
    void completesTheFinishedJobsAndClaimsTheNextOnesInOneCommit() {
        Job a = db.fixtures().processing("noop", "w/1");
        Job b = db.fixtures().processing("noop", "w/1");
        List<Long> next = db.fixtures().approvedBulk("noop", 3);

        LeaseStore.Round r =
                round("w/1", 5, List.of(new Completion(b.lease(), json("{\"n\":2}")), new Completion(a.lease(), null)));

        assertThat(r.completed()).containsExactlyInAnyOrder(a.id(), b.id());
        assertThat(r.claimed()).extracting(Job::id).containsExactlyElementsOf(next);
        assertThat(r.claimed()).allSatisfy(j -> {
            assertThat(j.status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(j.lockedBy()).isEqualTo("w/1");
            assertThat(j.attempt()).isEqualTo(1);
        });
        assertThat(db.queries().find(b.id()).orElseThrow().result()).isEqualTo(json("{\"n\":2}"));
        assertThat(db.queries().find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
    }

    @Test
    void theCompletedIdsComeOnceNotWithEveryClaimedRow() throws Exception {
        List<Job> finished = List.of(
                db.fixtures().processing("noop", "w/1"),
                db.fixtures().processing("noop", "w/1"),
                db.fixtures().processing("noop", "w/1"));
        db.fixtures().approvedBulk("noop", 4);
        Long[] ids = finished.stream().map(Job::id).sorted().toArray(Long[]::new);
        Integer[] attempts = java.util.Collections.nCopies(3, 1).toArray(Integer[]::new);
        List<Boolean> idsOnRow = new java.util.ArrayList<>();
        try (java.sql.Connection c = db.dataSource().getConnection();
                java.sql.PreparedStatement ps = c.prepareStatement(LeaseStore.CLAIM_AND_COMPLETE)) {
            ps.setString(1, "w/1");
            ps.setObject(2, new long[0]);
            ps.setObject(3, new String[] {"noop"});
            ps.setInt(4, 4);
            ps.setDouble(5, 15);
            ps.setObject(6, new String[] {"default"});
            ps.setObject(7, new Integer[] {null});
            ps.setObject(8, new String[] {null});
            ps.setObject(9, new Long[] {null});
            ps.setObject(10, ids);
            ps.setObject(11, attempts);
            ps.setObject(12, new String[] {null, null, null});
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    idsOnRow.add(rs.getArray("completed_ids") != null);
                }
            }
        }
        // Four claimed rows and one row of the completed ids (n × n ids when every row had them).
        assertThat(idsOnRow).hasSize(5);
        assertThat(idsOnRow).containsOnlyOnce(true);
    }

    @Test
    void aLostLeaseIsNotCompletedAndTheClaimStillHappens() {
        Job kept = db.fixtures().processing("noop", "w/1");
        Job cancelled = db.fixtures().processing("noop", "w/1");
        db.requests().cancel(cancelled.id(), "bob");
        Job other = db.fixtures().processing("noop", "w/2");
        long next = db.fixtures().approved("noop").id();

        LeaseStore.Round r = round(
                "w/1",
                1,
                List.of(
                        new Completion(kept.lease(), null),
                        new Completion(cancelled.lease(), null),
                        new Completion(new Lease(other.id(), other.attempt(), "w/1"), null)));

        assertThat(r.completed()).containsExactly(kept.id());
        assertThat(r.claimed()).extracting(Job::id).containsExactly(next);
        assertThat(db.queries().find(cancelled.id()).orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(db.queries().find(other.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
    }

    @Test
    void completesWithoutClaimingAndClaimsWithoutCompleting() {
        Job a = db.fixtures().processing("noop", "w/1");
        long waiting = db.fixtures().approved("noop").id();

        LeaseStore.Round onlyComplete = round("w/1", 0, List.of(new Completion(a.lease(), null)));
        assertThat(onlyComplete.completed()).containsExactly(a.id());
        assertThat(onlyComplete.claimed()).isEmpty();
        assertThat(db.queries().find(waiting).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);

        LeaseStore.Round onlyClaim = round("w/1", 4, List.of());
        assertThat(onlyClaim.completed()).isEmpty();
        assertThat(onlyClaim.claimed()).extracting(Job::id).containsExactly(waiting);

        LeaseStore.Round nothing = round("w/1", 4, List.of());
        assertThat(nothing.completed()).isEmpty();
        assertThat(nothing.claimed()).isEmpty();
    }

    @Test
    void aSubJobIsLeftForTheStatementThatDoesItsFanIn() {
        Job parent = db.fixtures().processing("video", "w/1");
        long child =
                db.outcomes().waitForSubJobs(parent.lease(), List.of(SubJob.of("noop", null)), "rendering", "stitching")
                                instanceof Results.Spawned s
                        ? s.subJobIds().getFirst()
                        : -1;
        Job claimedChild = round("w/1", 1, List.of()).claimed().getFirst();
        assertThat(claimedChild.id()).isEqualTo(child);

        LeaseStore.Round r = round("w/1", 0, List.of(new Completion(claimedChild.lease(), null)));
        assertThat(r.completed()).isEmpty();
        assertThat(db.queries().find(child).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
        assertThat(db.outcomes().completeMany("w/1", List.of(new Completion(claimedChild.lease(), null))))
                .containsExactly(child);
        assertThat(db.queries().find(parent.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
    }

    @Test
    void theHistoryHasOneRowPerAttemptWithItsWorkerAndItsStart() {
        Job a = db.fixtures().processing("noop", "w/1");
        assertThat(db.fixtures().eventKinds(a.id()))
                .as("a claim writes no event of its own")
                .containsExactly("created", "approved");
        assertThat(db.fixtures().strings("SELECT claimed_at IS NOT NULL FROM jobs WHERE id = " + a.id()))
                .containsExactly("t");

        round("w/1", 0, List.of(new Completion(a.lease(), null)));

        assertThat(db.fixtures().eventKinds(a.id())).containsExactly("created", "approved", "completed");
        assertThat(db.fixtures().strings("""
                                SELECT e.worker_id || ' ' || (e.attempt_started_at = j.claimed_at)
                                       || ' ' || (e.attempt_started_at <= e.created_at)
                                  FROM job_history e JOIN jobs j ON j.id = e.job_id
                                 WHERE e.job_id = %d AND e.kind = 'completed'""".formatted(a.id()))).containsExactly("w/1 true true");
    }

    @Test
    void everyWayAnAttemptEndsRecordsItsStart() {
        Job failed = db.fixtures().processing("noop", "w/1");
        Job released = db.fixtures().processing("noop", "w/1");
        Job reclaimed = db.fixtures().processing("noop", "w/1");
        Job cancelled = db.fixtures().processing("noop", "w/1");
        db.outcomes().fail(failed.lease(), "boom", false, java.time.Duration.ZERO);
        db.leases().release("w/1", List.of(released.lease()));
        db.fixtures().ageHeartbeat(reclaimed.id(), 600);
        db.reclaims().reclaimExpired(100);
        db.requests().cancel(cancelled.id(), "bob");

        for (Job j : List.of(failed, released, reclaimed, cancelled)) {
            assertThat(db.fixtures().strings("""
                                    SELECT kind || ' ' || worker_id || ' ' || (attempt_started_at IS NOT NULL)
                                      FROM job_history WHERE job_id = %d AND kind NOT IN ('created', 'approved')""".formatted(j.id())))
                    .as("job %d", j.id())
                    .singleElement()
                    .satisfies(row -> assertThat(row).endsWith(" w/1 true"));
        }
    }

    @Test
    void refusesANegativeLimitAndAJobListedTwice() {
        Job a = db.fixtures().processing("noop", "w/1");
        assertThatThrownBy(() -> round("w/1", -1, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() ->
                        round("w/1", 1, List.of(new Completion(a.lease(), null), new Completion(a.lease(), null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listed twice");
        assertThat(db.queries().find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
    }
}
