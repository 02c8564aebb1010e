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
 * V010 rewrites the history of a database that was written with a 'claimed' row per attempt: each
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
                                    + " FROM job_events ORDER BY id"))
                    .containsExactly("1 reclaimed w/a 10:00", "1 completed w/b 10:02");
            assertThat(
                            rows(
                                    st,
                                    "SELECT id || ' ' || to_char(claimed_at AT TIME ZONE 'UTC', 'HH24:MI') FROM jobs ORDER BY id"))
                    .containsExactly("1 10:02", "2 11:00");
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
