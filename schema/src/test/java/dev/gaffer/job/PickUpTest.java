package dev.gaffer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pickup: one job claimed by its id, for an idle worker that heard of its approval. It takes
 * exactly what a claim of that worker could take, and writes exactly what a claim writes.
 */
class PickUpTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("pick_up");

    private static final List<String> QUEUES = List.of("default");
    private static final Duration LEASE = Duration.ofSeconds(20);

    @BeforeEach
    void emptyQueue() {
        db.fixtures().cancelUnfinished();
    }

    private Optional<Job> pickUp(String worker, long id, List<String> queues, List<String> types) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            return db.leases().pickUp(c, worker, id, queues, types, LEASE);
        }
    }

    @Test
    void takesTheApprovedJobAsAClaimWould() throws Exception {
        Job job = db.fixtures().approved("noop");

        Job picked = pickUp("w/1", job.id(), QUEUES, List.of("noop", "sleep")).orElseThrow();

        assertThat(picked.id()).isEqualTo(job.id());
        assertThat(picked.status()).isEqualTo(JobStatus.PROCESSING);
        assertThat(picked.attempt()).isEqualTo(1);
        assertThat(picked.lockedBy()).isEqualTo("w/1");
        assertThat(picked.heartbeatAt()).isNotNull();
        assertThat(Duration.between(picked.heartbeatAt(), picked.leaseExpiresAt()))
                .isBetween(LEASE.minusSeconds(1), LEASE.plusSeconds(1));
        assertThat(picked.startedAt()).isNotNull();
        // Committed: another session sees it processing, and a second pickup gets nothing.
        assertThat(db.queries().find(job.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
        assertThat(pickUp("w/2", job.id(), QUEUES, null)).isEmpty();
        // Fenced like any claim: the lease it returns is the one that completes the job.
        assertThat(db.outcomes().complete(picked.lease(), null)).isInstanceOf(Results.Written.class);
        assertThat(db.queries().find(job.id()).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
    }

    @Test
    void takesNothingThatTheWorkerCouldNotClaim() throws Exception {
        Job pending = db.fixtures().pending("noop");
        Job notDue = db.fixtures().approved("noop");
        db.fixtures().exec("UPDATE jobs SET run_at = now() + interval '1 hour' WHERE id = " + notDue.id());
        Job otherQueue = db.fixtures().approved("noop");
        db.fixtures().exec("UPDATE jobs SET queue = 'renders' WHERE id = " + otherQueue.id());
        Job otherType = db.fixtures().approved("sleep");

        assertThat(pickUp("w/1", pending.id(), QUEUES, null)).isEmpty();
        assertThat(pickUp("w/1", notDue.id(), QUEUES, null)).isEmpty();
        assertThat(pickUp("w/1", otherQueue.id(), QUEUES, null)).isEmpty();
        assertThat(pickUp("w/1", otherType.id(), QUEUES, List.of("noop"))).isEmpty();
        assertThat(pickUp("w/1", Long.MAX_VALUE, QUEUES, null)).isEmpty();

        for (Job j : List.of(pending, notDue, otherQueue, otherType)) {
            Job now = db.queries().find(j.id()).orElseThrow();
            assertThat(now.attempt()).as("job %d", j.id()).isZero();
            assertThat(now.lockedBy()).as("job %d", j.id()).isNull();
        }
        // The one in the other queue is taken by a worker of that queue.
        assertThat(pickUp("w/1", otherQueue.id(), List.of("renders"), null)).isPresent();
    }

    @Test
    void aJobLockedByAnotherClaimIsSkippedWithoutWaiting() throws Exception {
        Job job = db.fixtures().approved("noop");
        try (Connection other = db.dataSource().getConnection()) {
            other.setAutoCommit(false);
            try (Statement st = other.createStatement()) {
                st.execute("SELECT id FROM jobs WHERE id = " + job.id() + " FOR UPDATE");
            }
            long t0 = System.nanoTime();
            assertThat(pickUp("w/1", job.id(), QUEUES, null)).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            other.rollback();
        }
        assertThat(pickUp("w/1", job.id(), QUEUES, null)).isPresent();
    }

    @Test
    void commitsOnItsOwnWithoutWaitingForTheDiskAndRefusesAnOpenTransaction() throws Exception {
        Job job = db.fixtures().approved("noop");
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            assertThatThrownBy(() -> db.leases().pickUp(c, "w/1", job.id(), QUEUES, null, LEASE))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("autocommit");
            c.rollback();
        }
        assertThat(db.queries().find(job.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
        // The claim's commit mode is set for its own transaction only (SET LOCAL): the session keeps its own.
        try (Connection c = db.dataSource().getConnection()) {
            String before = show(c);
            assertThat(db.leases().pickUp(c, "w/1", job.id(), QUEUES, null, LEASE))
                    .isPresent();
            assertThat(show(c)).isEqualTo(before);
        }
        assertThat(LeaseStore.PICK_UP).contains(LeaseStore.UNFLUSHED_COMMIT.substring(2));
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingIsWritten() throws Exception {
        Job job = db.fixtures().approved("noop");
        try (Connection c = db.dataSource().getConnection()) {
            assertThatThrownBy(() -> db.leases().pickUp(c, null, job.id(), QUEUES, null, LEASE))
                    .isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> db.leases().pickUp(c, "w/1", job.id(), QUEUES, null, Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(db.leases().pickUp(c, "w/1", job.id(), List.of(), null, LEASE))
                    .isEmpty();
        }
        assertThat(db.queries().find(job.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
    }

    private static String show(Connection c) throws Exception {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW synchronous_commit")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
