package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * V010 and V011 rewrite older histories. V010: a database written with a 'claimed' row per attempt: each
 * row that ended an attempt gets the attempt's start, each job the start of its last attempt, and
 * the claim rows go.
 */
class HistoryMigrationTest {

    @Test
    void theClaimRowsOfAnOlderHistoryBecomeTheStartOfTheAttemptsTheyBegan() throws Exception {
        String name = TestPostgres.newEmptyDatabase("history_v010");
        DatabaseUrl url = TestPostgres.url(name);
        Flyway.configure()
                .dataSource(url.jdbcUrl(), url.user(), url.password())
                .locations("classpath:db/migration")
                .target("9")
                .load()
                .migrate();
        try (Database db = Database.open(new DatabaseConfig(url, 4, Duration.ofSeconds(10), "gaffer-test"));
                Connection c = db.connection();
                Statement st = c.createStatement()) {
            // Job 1: claimed by w/a, reclaimed, claimed by w/b, completed. Job 2: claimed, still running.
            st.execute("""
                    INSERT INTO jobs (type, status, attempt, approved_by, approved_at, started_at, finished_at, progress_percentage)
                    VALUES ('noop', 'completed', 2, 'ops', now(), '2026-01-01 10:00:00+00', '2026-01-01 10:05:00+00', 100);
                    INSERT INTO jobs (type, status, attempt, approved_by, approved_at, started_at, locked_by, heartbeat_at,
                                      lease_expires_at)
                    VALUES ('noop', 'processing', 1, 'ops', now(), '2026-01-01 11:00:00+00', 'w/c', now(), now() + interval '15 s');
                    INSERT INTO job_events (job_id, kind, status, attempt, worker_id, created_at) VALUES
                        (1, 'claimed',   'processing', 1, 'w/a', '2026-01-01 10:00:00+00'),
                        (1, 'reclaimed', 'approved',   1, 'w/a', '2026-01-01 10:01:00+00'),
                        (1, 'claimed',   'processing', 2, 'w/b', '2026-01-01 10:02:00+00'),
                        (1, 'completed', 'completed',  2, 'w/b', '2026-01-01 10:05:00+00'),
                        (2, 'claimed',   'processing', 1, 'w/c', '2026-01-01 11:00:00+00');
                    """);
            assertThat(db.migrate()).isGreaterThanOrEqualTo(1);

            assertThat(rows(
                            st,
                            "SELECT job_id || ' ' || kind || ' ' || worker_id || ' '"
                                    + " || to_char(attempt_started_at AT TIME ZONE 'UTC', 'HH24:MI')"
                                    + " FROM job_history ORDER BY id"))
                    .containsExactly("1 reclaimed w/a 10:00", "1 completed w/b 10:02");
            assertThat(
                            rows(
                                    st,
                                    "SELECT id || ' ' || to_char(claimed_at AT TIME ZONE 'UTC', 'HH24:MI') FROM jobs ORDER BY id"))
                    .containsExactly("1 10:02", "2 11:00");
        }
    }

    /**
     * V011 moves each completion out of job_events into its job's row: the history read through
     * job_history afterwards is, row for row, what job_events held before; each finished job
     * names the event that finished it.
     */
    @Test
    void completionsMoveIntoTheirJobsRowsAndTheHistoryReadsTheSame() throws Exception {
        String name = TestPostgres.newEmptyDatabase("history_v011");
        DatabaseUrl url = TestPostgres.url(name);
        Flyway.configure()
                .dataSource(url.jdbcUrl(), url.user(), url.password())
                .locations("classpath:db/migration")
                .target("10")
                .load()
                .migrate();
        String history =
                "SELECT concat_ws(' ', id, job_id, kind, status, attempt, worker_id, actor, progress_percentage,"
                        + " stage, message, to_char(created_at AT TIME ZONE 'UTC', 'HH24:MI'),"
                        + " to_char(attempt_started_at AT TIME ZONE 'UTC', 'HH24:MI')) FROM %s ORDER BY id";
        try (Database db = Database.open(new DatabaseConfig(url, 4, Duration.ofSeconds(10), "gaffer-test"));
                Connection c = db.connection();
                Statement st = c.createStatement()) {
            // 1 completed by w/b on its second attempt, 2 failed, 3 cancelled while pending, 4 running.
            st.execute("""
                    INSERT INTO jobs (type, status, attempt, approved_by, approved_at, started_at, claimed_at, finished_at,
                                      progress_percentage, current_stage, result)
                    VALUES ('noop', 'completed', 2, 'ops', now(), '2026-01-01 10:00:00+00', '2026-01-01 10:02:00+00',
                            '2026-01-01 10:05:00+00', 100, 'stitch', '{}');
                    INSERT INTO jobs (type, status, attempt, approved_by, approved_at, started_at, claimed_at, finished_at,
                                      last_error)
                    VALUES ('noop', 'failed', 1, 'ops', now(), '2026-01-01 10:00:00+00', '2026-01-01 10:00:00+00',
                            '2026-01-01 10:01:00+00', 'boom');
                    INSERT INTO jobs (type, status, finished_at) VALUES ('noop', 'cancelled', '2026-01-01 10:03:00+00');
                    INSERT INTO jobs (type, status, attempt, approved_by, approved_at, started_at, claimed_at, locked_by,
                                      heartbeat_at, lease_expires_at)
                    VALUES ('noop', 'processing', 1, 'ops', now(), '2026-01-01 11:00:00+00', '2026-01-01 11:00:00+00',
                            'w/c', now(), now() + interval '15 s');
                    INSERT INTO job_events (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage,
                                            message, created_at, attempt_started_at) VALUES
                        (1, 'approved',  'approved',  0, NULL,  'ops', 0,   NULL,     NULL,   '2026-01-01 09:59:00+00', NULL),
                        (2, 'approved',  'approved',  0, NULL,  'ops', 0,   NULL,     NULL,   '2026-01-01 09:59:00+00', NULL),
                        (1, 'reclaimed', 'approved',  1, 'w/a', NULL,  10,  'render', 'gone', '2026-01-01 10:01:00+00',
                         '2026-01-01 10:00:00+00'),
                        (2, 'failed',    'failed',    1, 'w/a', NULL,  0,   NULL,     'boom', '2026-01-01 10:01:00+00',
                         '2026-01-01 10:00:00+00'),
                        (3, 'cancelled', 'cancelled', 0, NULL,  'ops', 0,   NULL,     NULL,   '2026-01-01 10:03:00+00', NULL),
                        (1, 'completed', 'completed', 2, 'w/b', NULL,  100, 'stitch', NULL,   '2026-01-01 10:05:00+00',
                         '2026-01-01 10:02:00+00'),
                        (4, 'approved',  'approved',  0, NULL,  'ops', 0,   NULL,     NULL,   '2026-01-01 10:59:00+00', NULL);
                    """);
            List<String> before = rows(st, history.formatted("job_events"));

            assertThat(db.migrate()).isGreaterThanOrEqualTo(1);

            assertThat(rows(st, history.formatted("job_history"))).containsExactlyElementsOf(before);
            assertThat(rows(st, "SELECT count(*) FROM job_events WHERE kind = 'completed'"))
                    .containsExactly("0");
            assertThat(rows(
                            st,
                            "SELECT concat_ws(' ', id, status, finished_event_id, completed_by) FROM jobs ORDER BY id"))
                    .containsExactly("1 completed 6 w/b", "2 failed 4", "3 cancelled 5", "4 processing");
        }
    }

    private static List<String> rows(Statement st, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
