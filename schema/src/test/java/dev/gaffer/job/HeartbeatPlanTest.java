package dev.gaffer.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A heartbeat for many jobs looks each of them up by its key, also when the table's statistics
 * have never seen the worker's name (every worker start has a new one) and the statement runs
 * with a custom plan (a pool connection's first executions). With a custom plan it read the whole
 * table and compared every row with every beat: 1 s for 2 000 jobs held, while the worker's
 * rounds waited for it.
 */
class HeartbeatPlanTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("heartbeat_plan");

    private static final String WORKER = "w/plan";
    private static final int HELD = 1_500;

    @Test
    void aHeartbeatOfManyJobsReadsTheirKeysNotTheTable() throws Exception {
        db.fixtures()
                .exec("INSERT INTO jobs (type, status, approved_by, approved_at)"
                        + " SELECT 'noop', 'approved', 'test', now() FROM generate_series(1, 30000)");
        // Statistics from before the claim: no row is locked by anyone.
        db.fixtures().exec("ANALYZE jobs");
        List<Job> claimed = db.leases().claim(WORKER, List.of("default"), HELD, List.of());
        assertThat(claimed).hasSize(HELD);
        List<LeaseStore.Beat> beats = claimed.stream()
                .map(j -> new LeaseStore.Beat(j.lease(), null, null))
                .toList();

        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            Set<Long> held = LeaseStore.heartbeat(c, WORKER, beats, Duration.ofSeconds(30));
            assertThat(held).hasSize(HELD);
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(
                            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'jobs'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong("seq_scan"))
                        .as("sequential scans of jobs")
                        .isZero();
                assertThat(rs.getLong("idx_scan")).as("index scans of jobs").isGreaterThanOrEqualTo(HELD);
            }
            c.commit();
        }

        // The public call writes the same, committed.
        assertThat(db.leases().heartbeat(WORKER, beats).held()).hasSize(HELD);
    }
}
