package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The schema a DBA reads: every column documented, every invariant enforced by PostgreSQL itself. */
class SchemaTest {

    static Database db;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("schema");
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @Test
    void migrationsAreCurrentAndIdempotent() {
        assertThat(db.pendingMigrations()).isZero();
        assertThat(db.migrate()).isZero();
    }

    @Test
    void everyTableAndColumnHasAComment() throws SQLException {
        List<String> undocumented = query("""
                SELECT c.relname || '.' || a.attname
                  FROM pg_attribute a
                  JOIN pg_class c ON c.oid = a.attrelid
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                   AND c.relname IN ('jobs', 'job_events', 'workers', 'scheduled_tasks', 'job_reviews')
                   AND col_description(c.oid, a.attnum) IS NULL
                UNION ALL
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public'
                   AND c.relname IN ('jobs', 'job_events', 'workers', 'scheduled_tasks', 'job_trees', 'job_reviews')
                   AND obj_description(c.oid, 'pg_class') IS NULL
                """);
        assertThat(undocumented).isEmpty();
    }

    @Test
    void statusIsAPostgresEnumWithTheDesignStates() throws SQLException {
        assertThat(query("SELECT unnest(enum_range(NULL::job_status))::text"))
                .containsExactly(
                        "pending", "approved", "processing", "waiting", "completed", "failed", "cancelled", "rejected");
    }

    @Test
    void hotPathIndexesArePartialAndDoNotCoverHeartbeatColumns() throws SQLException {
        List<String> defs = query("SELECT indexdef FROM pg_indexes WHERE tablename = 'jobs'");
        assertThat(defs).anyMatch(d -> d.contains("jobs_claimable_idx") && d.contains("WHERE (status = 'approved'"));
        assertThat(defs).anyMatch(d -> d.contains("jobs_processing_idx") && d.contains("WHERE (status = 'processing'"));
        assertThat(defs).anyMatch(d -> d.contains("jobs_parent_idx"));
        // Heartbeats write these; indexing any of them would make every heartbeat a non-HOT update.
        assertThat(defs)
                .noneMatch(d -> d.contains("heartbeat_at")
                        || d.contains("progress_percentage")
                        || d.contains("current_stage")
                        || d.contains("updated_at"));
        assertThat(query("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'jobs'"))
                .containsExactly("fillfactor=80");
    }

    @Test
    void progressOutsideZeroToHundredIsRejected() {
        assertRejected("INSERT INTO jobs (type, progress_percentage) VALUES ('noop', 101)", "jobs_progress_range");
        assertRejected("INSERT INTO jobs (type, progress_percentage) VALUES ('noop', -1)", "jobs_progress_range");
    }

    @Test
    void attemptBeyondMaxAttemptsIsRejected() {
        assertRejected("INSERT INTO jobs (type, attempt, max_attempts) VALUES ('noop', 4, 3)", "jobs_attempt_range");
    }

    @Test
    void finishedAtIsSetExactlyForTerminalStates() {
        assertRejected(
                "INSERT INTO jobs (type, finished_at, finished_event_id) VALUES ('noop', now(), 1)",
                "jobs_finished_iff_terminal");
        assertRejected("INSERT INTO jobs (type, status) VALUES ('noop', 'cancelled')", "jobs_finished_iff_terminal");
    }

    @Test
    void aFinishedJobNamesTheEventThatFinishedItAndACompletedOneWhoCompletedIt() {
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, finished_at) VALUES ('noop', 'cancelled',"
                        + " now(), 'a', now())",
                "jobs_finished_event_iff_finished");
        assertRejected(
                "INSERT INTO jobs (type, finished_event_id) VALUES ('noop', 7)", "jobs_finished_event_iff_finished");
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, finished_at, finished_event_id,"
                        + " progress_percentage) VALUES ('noop', 'completed', now(), 'a', now(), 7, 100)",
                "jobs_completed_by_iff_completed");
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, finished_at, finished_event_id, completed_by)"
                        + " VALUES ('noop', 'cancelled', now(), 'a', now(), 7, 'w/1')",
                "jobs_completed_by_iff_completed");
    }

    @Test
    void completionsAreNotEventRows() throws SQLException {
        try (Connection c = db.connection();
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO jobs (type) VALUES ('noop')");
        }
        assertRejected(
                "INSERT INTO job_events (job_id, kind, status, attempt) SELECT max(id), 'completed', 'completed', 1"
                        + " FROM jobs",
                "job_events_completion_in_job_row");
    }

    @Test
    void leaseColumnsAreSetExactlyWhileProcessing() {
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, heartbeat_at, lease_expires_at, claimed_at)"
                        + " VALUES ('noop', 'processing', now(), 'a', now(), now(), now())",
                "jobs_locked_iff_processing");
        assertRejected("INSERT INTO jobs (type, locked_by) VALUES ('noop', 'w/1')", "jobs_locked_iff_processing");
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, locked_by, heartbeat_at, claimed_at)"
                        + " VALUES ('noop', 'processing', now(), 'a', 'w/1', now(), now())",
                "jobs_lease_expiry_iff_processing");
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, locked_by, heartbeat_at, lease_expires_at)"
                        + " VALUES ('noop', 'processing', now(), 'a', 'w/1', now(), now())",
                "jobs_claimed_while_processing");
        assertRejected(
                "INSERT INTO jobs (type, lease_expires_at) VALUES ('noop', now())", "jobs_lease_expiry_iff_processing");
    }

    @Test
    void fullProgressMeansCompleted() {
        assertRejected(
                "INSERT INTO jobs (type, progress_percentage) VALUES ('noop', 100)",
                "jobs_full_progress_iff_completed");
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by, finished_at, finished_event_id, completed_by,"
                        + " progress_percentage) VALUES ('noop', 'completed', now(), 'a', now(), 1, 'w', 99)",
                "jobs_full_progress_iff_completed");
    }

    @Test
    void nothingRunsWithoutAnApproval() {
        assertRejected("INSERT INTO jobs (type, status) VALUES ('noop', 'approved')", "jobs_approved_before_running");
    }

    @Test
    void waitingRequiresOpenSubJobs() {
        assertRejected(
                "INSERT INTO jobs (type, status, approved_at, approved_by) VALUES ('noop', 'waiting', now(), 'a')",
                "jobs_waiting_iff_open_subjobs");
    }

    @Test
    void badTypeAndQueueNamesAreRejected() throws SQLException {
        assertRejected("INSERT INTO jobs (type) VALUES ('Robert''); DROP TABLE jobs;--')", "job_name_format");
        assertRejected("INSERT INTO jobs (type, queue) VALUES ('noop', '')", "job_name_format");
        // The domain checks a value whenever one is assigned, updates included.
        try (Connection c = db.connection();
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO jobs (type) VALUES ('noop')");
        }
        assertRejected("UPDATE jobs SET queue = 'Not A Name'", "job_name_format");
        assertRejected("UPDATE jobs SET type = 'Bad Type'", "job_name_format");
    }

    @Test
    void parametersMustBeAnObject() {
        assertRejected("INSERT INTO jobs (type, parameters) VALUES ('noop', '[1, 2]')", "job_parameters_object");
        assertRejected("INSERT INTO jobs (type, parameters) VALUES ('noop', '\"text\"')", "job_parameters_object");
    }

    @Test
    void idempotencyKeysAreUniqueAndOptional() throws SQLException {
        try (Connection c = db.connection();
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO jobs (type) VALUES ('noop'), ('noop')");
            st.execute("INSERT INTO jobs (type, idempotency_key) VALUES ('noop', 'key-1')");
        }
        assertRejected("INSERT INTO jobs (type, idempotency_key) VALUES ('noop', 'key-1')", "jobs_idempotency_key_idx");
    }

    @Test
    void deletingJobsDeletesTheirEventsAndTheirSubJobsEvents() throws SQLException {
        try (Connection c = db.connection();
                Statement st = c.createStatement()) {
            st.execute("""
                    WITH parent AS (INSERT INTO jobs (type) VALUES ('noop') RETURNING id),
                         child AS (INSERT INTO jobs (type, parent_id) SELECT 'noop', id FROM parent RETURNING id),
                         other AS (INSERT INTO jobs (type) VALUES ('keep') RETURNING id)
                    INSERT INTO job_events (job_id, kind, status, attempt)
                    SELECT id, 'created'::job_event_kind, 'pending'::job_status, 0 FROM parent
                    UNION ALL SELECT id, 'created', 'pending', 0 FROM child
                    UNION ALL SELECT id, 'created', 'pending', 0 FROM other
                    """);
            assertThat(query("SELECT j.type FROM job_history e JOIN jobs j ON j.id = e.job_id ORDER BY e.id"))
                    .containsSubsequence("noop", "noop", "keep");

            st.execute("DELETE FROM jobs WHERE type = 'noop' AND parent_id IS NULL");

            assertThat(query("SELECT count(*) FROM jobs WHERE type = 'noop'")).containsExactly("0");
            assertThat(
                            query(
                                    "SELECT count(*) FROM job_history e WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = e.job_id)"))
                    .as("events left without their job")
                    .containsExactly("0");
            assertThat(query("SELECT count(*) FROM job_history e JOIN jobs j ON j.id = e.job_id WHERE j.type = 'keep'"))
                    .containsExactly("1");
        }
    }

    private void assertRejected(String sql, String constraint) {
        assertThatThrownBy(() -> {
                    try (Connection c = db.connection();
                            Statement st = c.createStatement()) {
                        st.execute(sql);
                    }
                })
                .isInstanceOf(SQLException.class)
                .hasMessageContaining(constraint);
    }

    private List<String> query(String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.connection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
