package dev.gaffer.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bench's own SQL: bulk rows that satisfy V001's CHECK constraints (one INSERT … SELECT
 * generate_series per call) and read-only probes of progress. Never a job transition: those are
 * the stores', run by the workers under test.
 */
final class Jobs {

    private Jobs() {}

    /** Approved jobs of {@code type}, claimable now, in the default queue. */
    static void insertApproved(Connection c, int n, String type, String parametersJson) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO jobs (type, parameters, status, approved_by, approved_at)
                SELECT ?, ?::jsonb, 'approved', 'bench', now() FROM generate_series(1, ?)
                """)) {
            ps.setString(1, type);
            ps.setString(2, parametersJson);
            ps.setInt(3, n);
            ps.executeUpdate();
        }
    }

    /** Pending jobs (the approve is what a benchmark times); returns their ids in order. */
    static List<Long> insertPending(Connection c, int n, String type) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("INSERT INTO jobs (type) SELECT ? FROM generate_series(1, ?) RETURNING id")) {
            ps.setString(1, type);
            ps.setInt(2, n);
            List<Long> ids = new java.util.ArrayList<>(n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            ids.sort(Long::compare);
            return ids;
        }
    }

    /**
     * Finished (completed) jobs as a retention period leaves them: finished a day ago, so that no
     * measurement window ("finished after t0") includes them. In statements of at most a million.
     */
    static void insertCompleted(Connection c, int n) throws SQLException {
        for (int done = 0; done < n; done += 1_000_000) {
            int batch = Math.min(1_000_000, n - done);
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO jobs (type, parameters, status, attempt, progress_percentage, result, approved_by,
                                      approved_at, started_at, claimed_at, finished_at, finished_event_id, completed_by,
                                      created_at, updated_at)
                    SELECT 'noop', '{}', 'completed', 1, 100, NULL, 'bench', t, t, t, t, nextval('job_events_id_seq'),
                           'bench', t, t
                      FROM generate_series(1, ?), (SELECT now() - interval '1 day' AS t) x
                    """)) {
                ps.setInt(1, batch);
                ps.executeUpdate();
            }
        }
    }

    /** Tells listening workers that jobs arrived (a bulk INSERT sends no hint of its own). */
    static void hint(Connection c) throws SQLException {
        exec(c, "SELECT pg_notify('gaffer_jobs', '{\"event\":\"approved\",\"queue\":\"default\"}')");
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static double number(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getDouble(1);
        }
    }

    /** Database clock, epoch seconds with microseconds. */
    static double clock(Connection c) throws SQLException {
        return number(c, "SELECT extract(epoch FROM clock_timestamp())");
    }

    /** Waits until a worker of each name has registered. */
    static void awaitWorkers(Connection c, Collection<String> names, Duration limit)
            throws SQLException, InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        for (String name : names) {
            while (count(c, "SELECT count(*) FROM workers WHERE name = '" + name + "'") == 0) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("worker " + name + " did not register within " + limit);
                }
                Thread.sleep(100);
            }
        }
    }

    /** True once no job is approved or processing (both probes read partial indexes only). */
    static boolean drained(Connection c) throws SQLException {
        return count(
                        c,
                        "SELECT (EXISTS (SELECT 1 FROM jobs WHERE status = 'approved')"
                                + " OR EXISTS (SELECT 1 FROM jobs WHERE status = 'processing'))::int")
                == 0;
    }

    /** Jobs finished since {@code sinceEpoch}: how many, first start and last finish (epoch s). */
    record Window(long completed, double firstStart, double lastFinish) {
        double seconds() {
            return lastFinish - firstStart;
        }

        double perSecond() {
            return completed / seconds();
        }
    }

    static Window window(Connection c, double sinceEpoch, long mark) throws SQLException {
        return window(c, sinceEpoch, mark, "true");
    }

    /**
     * The newest finished_event_id ({@link #window}'s {@code mark}): jobs that finish later have
     * larger ones, so that a window reads jobs_finished_event_idx from there instead of the whole
     * table (finished_at has no index since V011; the scale scenario polls the window every 200 ms
     * on a table of 6 M rows).
     */
    static long finishedMark(Connection c) throws SQLException {
        return (long) number(c, "SELECT coalesce(max(finished_event_id), 0) FROM jobs");
    }

    /**
     * As {@link #window(Connection, double, long)}, for the jobs that match {@code predicate}
     * only. {@code mark}: {@link #finishedMark} read before {@code sinceEpoch}.
     */
    static Window window(Connection c, double sinceEpoch, long mark, String predicate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(*), extract(epoch FROM min(started_at)), extract(epoch FROM max(finished_at))
                  FROM jobs
                 WHERE finished_event_id > ? AND finished_at > to_timestamp(?) AND status = 'completed' AND (%s)
                """.formatted(predicate))) {
            ps.setLong(1, mark);
            ps.setDouble(2, sinceEpoch);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Window(rs.getLong(1), rs.getDouble(2), rs.getDouble(3));
            }
        }
    }

    /** Counters of the server that say what a run cost: commits, WAL bytes. */
    static Map<String, Double> serverCounters(Connection c) throws SQLException {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("commits", number(c, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"));
        out.put("wal", number(c, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"));
        return out;
    }

    /** Resets pg_stat_statements when it is installed (the note of {@link #topStatements} then covers one variant). */
    static void resetStatements(Connection c) {
        try {
            exec(c, "SELECT pg_stat_statements_reset()");
        } catch (SQLException e) {
            // not installed
        }
    }

    /** The statements that cost the server most since the reset, one line each. */
    static List<String> topStatements(Connection c, int limit) {
        List<String> out = new java.util.ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),"
                                + " round(total_plan_time::numeric, 1), rows,"
                                + " regexp_replace(left(query, 160), '\\s+', ' ', 'g')"
                                + " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                                + " WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT "
                                + limit)) {
            while (rs.next()) {
                out.add(String.format(
                        "calls %d, exec %s ms total (mean %s ms), plan %s ms, rows %d: %s",
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getLong(5),
                        rs.getString(6)));
            }
        } catch (SQLException e) {
            out.add("pg_stat_statements not available: " + e.getMessage());
        }
        return out;
    }

    /** Environment of a {@code gaffer worker} child process. */
    static Map<String, String> workerEnv(String databaseUrl, String name, int concurrency) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DATABASE_URL", databaseUrl);
        env.put("GAFFER_WORKER_NAME", name);
        env.put("GAFFER_CONCURRENCY", Integer.toString(concurrency));
        return env;
    }
}
