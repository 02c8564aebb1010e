package dev.gaffer.faults;

import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * One scenario's world: its own database on the suite's PostgreSQL (migrated, plus the side-effect
 * table {@code executions}), the processes it started, and SQL helpers. Closing it stops every
 * process it started, by pid.
 */
final class Cluster implements AutoCloseable {

    /** Short leases so that a dead or frozen worker costs seconds. */
    static final Duration HEARTBEAT_INTERVAL = Duration.ofMillis(500);

    static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration RECLAIM_INTERVAL = Duration.ofMillis(500);

    final String scenario;
    final String database;
    final FaultPostgres pg;
    final Path logDir;
    private final List<GafferProc> processes = new ArrayList<>();

    Cluster(String scenario) {
        this.scenario = scenario;
        this.database = "f_" + scenario.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
        this.pg = FaultPostgres.get();
        this.logDir = Path.of("target", "faults-logs", scenario).toAbsolutePath();
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Connection c = pg.connect("postgres");
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            st.execute("CREATE DATABASE " + database);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + database, e);
        }
        try (Database db = Database.open(new DatabaseConfig(
                new DatabaseUrl(pg.jdbcUrl(database), "postgres", null), 2, Duration.ofSeconds(10), "faults-setup"))) {
            db.migrate();
        }
        exec("""
                CREATE TABLE executions (
                    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    job_id      bigint NOT NULL,
                    attempt     integer NOT NULL,
                    worker_id   text NOT NULL,
                    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
                    returned_at timestamptz)""");
    }

    // ---- processes ------------------------------------------------------------------------

    Map<String, String> workerEnv(String name) {
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", pg.url(database, "postgres", null));
        env.put("GAFFER_WORKER_NAME", name);
        env.put("GAFFER_JOB_TYPES", RecordHandlers.TYPE);
        env.put("GAFFER_CONCURRENCY", "8");
        env.put("GAFFER_POLL_INTERVAL", "1s");
        env.put("GAFFER_HEARTBEAT_INTERVAL", "500ms");
        env.put("GAFFER_HEARTBEAT_TIMEOUT", "3s");
        env.put("GAFFER_RECLAIM_INTERVAL", "500ms");
        env.put("GAFFER_SHUTDOWN_GRACE", "2s");
        env.put("GAFFER_RETRY_BASE", "200ms");
        env.put("GAFFER_RETRY_CAP", "1s");
        env.put("GAFFER_LOG_LEVEL", "INFO");
        return env;
    }

    GafferProc worker(String name, Map<String, String> env) {
        GafferProc p = new GafferProc(name, logDir, env, "worker");
        processes.add(p);
        return p;
    }

    /** Starts a worker and waits until it has registered in the workers table. */
    GafferProc startWorker(String name, Map<String, String> env) {
        GafferProc p = worker(name, env).start();
        awaitRegistered(p);
        return p;
    }

    GafferProc startWorker(String name) {
        return startWorker(name, workerEnv(name));
    }

    void awaitRegistered(GafferProc p) {
        awaitUntil(p.name + " registered", Duration.ofSeconds(60), () -> {
            if (!p.alive()) {
                throw new AssertionError(p.name + " exited with " + p.process().exitValue() + ":\n" + p.tail(40));
            }
            return longOf("SELECT count(*) FROM workers WHERE name = ? AND pid = ?", p.name, p.pid()) > 0;
        });
    }

    /** The current workers.id (locked_by) of a worker process. */
    String workerId(GafferProc p) {
        return textOf(
                "SELECT id FROM workers WHERE name = ? AND pid = ? ORDER BY started_at DESC LIMIT 1", p.name, p.pid());
    }

    record Api(GafferProc process, int port) {
        String base() {
            return "http://127.0.0.1:" + port;
        }

        /** POST {@code body} as JSON to {@code path} with the bearer {@code key}. */
        HttpResponse<String> post(String path, String key, String body) throws IOException, InterruptedException {
            return HTTP.send(
                    HttpRequest.newBuilder(URI.create(base() + path))
                            .header("Authorization", "Bearer " + key)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .timeout(Duration.ofSeconds(20))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Creates an API key as the tables' owner would (gaffer keys create) and returns its secret. */
    String createKey(String name, ApiKeyRole role) {
        try (Database owner = Database.open(new DatabaseConfig(
                new DatabaseUrl(pg.jdbcUrl(database), "postgres", null), 2, Duration.ofSeconds(10), "faults-keys"))) {
            return new ApiKeyStore(owner.dataSource()).create(name, role).key();
        }
    }

    Api startApi(Map<String, String> extraEnv) {
        int port = FaultPostgres.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", pg.url(database, "postgres", null));
        env.put("GAFFER_API_HOST", "127.0.0.1");
        env.put("GAFFER_API_PORT", Integer.toString(port));
        env.put("GAFFER_JOB_TYPES", "noop,sleep," + RecordHandlers.TYPE);
        env.put("GAFFER_DB_POOL_SIZE", "8");
        env.putAll(extraEnv);
        long apis = processes.stream().filter(q -> q.name.startsWith("api")).count();
        GafferProc p = new GafferProc(apis == 0 ? "api" : "api-" + (apis + 1), logDir, env, "api");
        processes.add(p);
        p.start();
        Api api = new Api(p, port);
        awaitUntil("the API ready on " + port, Duration.ofSeconds(60), () -> {
            if (!p.alive()) {
                throw new AssertionError("api exited with " + p.process().exitValue() + ":\n" + p.tail(40));
            }
            return httpStatus(api.base() + "/health/ready") == 200;
        });
        return api;
    }

    static final HttpClient HTTP = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    static int httpStatus(String url) {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create(url))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    // ---- jobs -----------------------------------------------------------------------------

    /**
     * Inserts {@code n} approved jobs of the recording type in one statement (as a client
     * creating and a person approving them would leave them) and wakes the workers.
     */
    void insertApproved(int n, String parametersJson, int maxAttempts) {
        exec("""
                INSERT INTO jobs (type, parameters, max_attempts, status, approved_by, approved_at)
                SELECT ?, ?::jsonb, ?, 'approved', 'faults', now() FROM generate_series(1, ?)""", RecordHandlers.TYPE, parametersJson, maxAttempts, n);
        exec("SELECT pg_notify('gaffer_jobs', '{\"event\":\"approved\",\"queue\":\"default\"}')");
    }

    long unfinished() {
        return longOf("SELECT count(*) FROM jobs WHERE status NOT IN ('completed', 'failed', 'cancelled')");
    }

    void awaitAllTerminal(Duration limit) {
        awaitUntil("every job terminal", limit, () -> unfinished() == 0);
    }

    /**
     * The promise, in SQL: no job lost, exactly one committed completion per completed job, its
     * result from the attempt and worker that hold it, and every other execution explained by a
     * reclaim or a retry of that attempt.
     */
    record Invariants(
            long jobs,
            long completed,
            long failed,
            long lost,
            long duplicateCompletions,
            long executions,
            long extraExecutions,
            long unexplainedExecutions,
            long reclaims,
            long wrongResults) {}

    Invariants invariants() {
        return new Invariants(
                longOf("SELECT count(*) FROM jobs"),
                longOf("SELECT count(*) FROM jobs WHERE status = 'completed'"),
                longOf("SELECT count(*) FROM jobs WHERE status = 'failed'"),
                longOf("SELECT count(*) FROM jobs WHERE status NOT IN ('completed', 'failed', 'cancelled')"),
                longOf("""
                        SELECT count(*) FROM (
                            SELECT job_id FROM job_history WHERE kind = 'completed' GROUP BY job_id HAVING count(*) > 1) d"""),
                longOf("SELECT count(*) FROM executions"),
                longOf("""
                        SELECT count(*) FROM executions e JOIN jobs j ON j.id = e.job_id
                         WHERE NOT (j.status = 'completed' AND e.attempt = j.attempt AND e.worker_id = j.result->>'worker')"""),
                longOf("""
                        SELECT count(*) FROM executions e JOIN jobs j ON j.id = e.job_id
                         WHERE NOT (j.status = 'completed' AND e.attempt = j.attempt AND e.worker_id = j.result->>'worker')
                           AND NOT EXISTS (
                               SELECT 1 FROM job_history v
                                WHERE v.job_id = e.job_id AND v.attempt = e.attempt AND v.worker_id = e.worker_id
                                  AND v.kind IN ('reclaimed', 'retried', 'failed'))"""),
                longOf("SELECT count(*) FROM job_history WHERE kind = 'reclaimed'"),
                longOf("""
                        SELECT count(*) FROM jobs j
                         WHERE j.status = 'completed'
                           AND NOT EXISTS (
                               SELECT 1 FROM job_history v
                                WHERE v.job_id = j.id AND v.kind = 'completed' AND v.attempt = j.attempt
                                  AND v.worker_id = j.result->>'worker')"""));
    }

    // ---- SQL ------------------------------------------------------------------------------

    Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", "faults-test");
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "30");
        return java.sql.DriverManager.getConnection(pg.jdbcUrl(database), p);
    }

    void exec(String sql, Object... args) {
        try (Connection c = connect();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            ps.execute();
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    long longOf(String sql, Object... args) {
        Object v = valueOf(sql, args);
        return v == null ? 0 : ((Number) v).longValue();
    }

    String textOf(String sql, Object... args) {
        Object v = valueOf(sql, args);
        return v == null ? null : v.toString();
    }

    Object valueOf(String sql, Object... args) {
        List<Map<String, Object>> rows = rows(sql, args);
        return rows.isEmpty() ? null : rows.get(0).values().iterator().next();
    }

    List<Map<String, Object>> rows(String sql, Object... args) {
        try (Connection c = connect();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<Map<String, Object>> out = new ArrayList<>();
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= n; i++) {
                        row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
                    }
                    out.add(row);
                }
                return out;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
    }

    // ---- waiting --------------------------------------------------------------------------

    /** Polls {@code condition} until true; fails after {@code limit} with the processes' log tails. */
    void awaitUntil(String what, Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                last = null;
            } catch (AssertionError e) {
                throw e;
            } catch (RuntimeException e) {
                last = e; // e.g. the database is restarting; keep trying until the deadline
            }
            sleep(Duration.ofMillis(200));
        }
        throw new AssertionError(
                scenario + ": not true within " + limit + ": " + what
                        + (last == null ? "" : " (last error: " + last + ")") + "\n" + tails()
                        + databaseState(),
                last);
    }

    /**
     * What the database looked like when a wait timed out: the jobs that are not finished, the
     * maintenance tasks' rows, and every other session on this scenario's database with its
     * transaction and the locks it holds, so that a stall seen once in CI can be explained.
     */
    String databaseState() {
        StringBuilder sb = new StringBuilder("---- database ").append(database).append(" ----\n");
        String[][] queries = {
            {"clock", "SELECT clock_timestamp() AS now"},
            {"unfinished jobs", """
                    SELECT id, status, attempt, locked_by, heartbeat_at, lease_expires_at, run_at FROM jobs
                     WHERE finished_at IS NULL ORDER BY id LIMIT 50"""},
            {
                "scheduled_tasks",
                "SELECT task_name, picked, picked_by, last_heartbeat, execution_time FROM scheduled_tasks"
            },
            {"workers", "SELECT * FROM workers"},
            {"sessions", """
                    SELECT pid, application_name, state, xact_start, wait_event_type, wait_event, left(query, 120) AS query
                      FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"""},
            {"row and relation locks", """
                    SELECT l.pid, l.locktype, l.relation::regclass AS relation, l.mode, l.granted
                      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()
                       AND l.locktype IN ('relation', 'tuple', 'transactionid') LIMIT 50"""}
        };
        for (String[] q : queries) {
            sb.append("-- ").append(q[0]).append('\n');
            try {
                for (Map<String, Object> row : rows(q[1])) {
                    sb.append(row).append('\n');
                }
            } catch (RuntimeException e) {
                sb.append("(could not read: ").append(e.getMessage()).append(")\n");
            }
        }
        return sb.toString();
    }

    String tails() {
        StringBuilder sb = new StringBuilder();
        for (GafferProc p : processes) {
            sb.append("---- ").append(p.name).append(" (").append(p.log).append(") ----\n");
            sb.append(p.tail(25)).append('\n');
        }
        return sb.toString();
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        for (GafferProc p : processes) {
            p.signal("CONT");
        }
        processes.parallelStream().forEach(GafferProc::stop);
    }
}
