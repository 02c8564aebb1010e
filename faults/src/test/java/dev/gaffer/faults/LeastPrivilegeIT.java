package dev.gaffer.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.job.ReclaimStore;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Scenario 10: the API and a worker run as logins in the roles of db/roles.sql, take jobs through
 * create, approve, cancel, retry, claim, fail and complete, and PostgreSQL itself refuses every
 * write those roles were not given (SQLSTATE 42501).
 */
class LeastPrivilegeIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path ROLES_SQL = Path.of("..", "schema", "src", "main", "resources", "db", "roles.sql");

    @Test
    void apiAndWorkersRunUnderTheirRolesAndPostgresRefusesWhatTheRolesDoNotGrant() throws Exception {
        try (Cluster c = new Cluster("s10-least-privilege")) {
            // As the owner: the roles, one login each, and the test's side-effect table.
            String script = Files.readString(ROLES_SQL);
            try (Connection owner = c.connect();
                    Statement st = owner.createStatement()) {
                st.execute(script);
                for (String[] login : new String[][] {
                    {"faults_api", "gaffer_api", "30s"},
                    {"faults_worker", "gaffer_worker", "60s"},
                    {"faults_dba", "gaffer_readonly", "5min"}
                }) {
                    st.execute("DROP ROLE IF EXISTS " + login[0]);
                    st.execute("CREATE ROLE " + login[0] + " LOGIN PASSWORD 'secret-" + login[0] + "' IN ROLE "
                            + login[1]);
                    st.execute("ALTER ROLE " + login[0] + " SET statement_timeout = '" + login[2] + "'");
                    st.execute("ALTER ROLE " + login[0] + " SET idle_in_transaction_session_timeout = '60s'");
                }
                st.execute("GRANT INSERT, UPDATE ON executions TO gaffer_worker");
                st.execute("GRANT SELECT ON executions TO gaffer_worker");
            }
            String approveKey = c.createKey("faults-approver", ApiKeyRole.APPROVE);

            Map<String, String> apiEnv = new LinkedHashMap<>();
            apiEnv.put("DATABASE_URL", c.pg.url(c.database, "faults_api", "secret-faults_api"));
            Cluster.Api api = c.startApi(apiEnv);
            Map<String, String> workerEnv = c.workerEnv("lp1");
            workerEnv.put("DATABASE_URL", c.pg.url(c.database, "faults_worker", "secret-faults_worker"));
            GafferProc worker = c.startWorker("lp1", workerEnv);

            // End to end under the roles: create, approve, run to completion.
            long done = create(api, approveKey, "{\"type\":\"record\",\"parameters\":{\"sleep_ms\":50}}");
            assertThat(call(api, approveKey, "POST", "/api/v3/jobs/" + done + "/approve")
                            .statusCode())
                    .isEqualTo(200);
            // Cancel a pending one, retry it (a fresh budget), and it runs too.
            long cancelled = create(api, approveKey, "{\"type\":\"record\"}");
            assertThat(call(api, approveKey, "POST", "/api/v3/jobs/" + cancelled + "/cancel")
                            .statusCode())
                    .isEqualTo(200);
            assertThat(call(api, approveKey, "POST", "/api/v3/jobs/" + cancelled + "/retry")
                            .statusCode())
                    .isEqualTo(200);
            // A job that fails for good exercises the worker's failure path.
            long failing = create(
                    api, approveKey, "{\"type\":\"record\",\"parameters\":{\"mode\":\"throw\"},\"max_attempts\":2}");
            assertThat(call(api, approveKey, "POST", "/api/v3/jobs/" + failing + "/approve")
                            .statusCode())
                    .isEqualTo(200);
            c.awaitAllTerminal(Duration.ofSeconds(30));
            assertThat(status(api, approveKey, done)).isEqualTo("completed");
            assertThat(status(api, approveKey, cancelled)).isEqualTo("completed");
            assertThat(status(api, approveKey, failing)).isEqualTo("failed");
            assertThat(call(api, approveKey, "GET", "/api/v3/workers").statusCode())
                    .isEqualTo(200);
            assertThat(Cluster.httpStatus(api.base() + "/health/ready")).isEqualTo(200);
            assertThat(c.longOf("SELECT count(*) FROM scheduled_tasks WHERE last_success IS NOT NULL"))
                    .as("maintenance ran under gaffer_worker")
                    .isPositive();
            assertThat(worker.alive()).isTrue();
            assertThat(worker.logText() + api.process().logText()).doesNotContain("permission denied");

            // What each role was not given, refused by PostgreSQL.
            Map<String, String> refused = new LinkedHashMap<>();
            refused.put("faults_api", "UPDATE jobs SET parameters = '{\"evil\":true}' WHERE id = " + done);
            refused.put("faults_api ", "UPDATE jobs SET locked_by = 'mallory', heartbeat_at = now(), type = 'x'");
            refused.put("faults_api  ", "DELETE FROM jobs");
            refused.put("faults_api   ", "UPDATE api_keys SET role = 'admin'");
            refused.put(
                    "faults_api    ",
                    "INSERT INTO workers (id, name, host, pid, queues, concurrency) VALUES ('x', 'x', 'x', 1, '{}', 1)");
            refused.put("faults_worker", "UPDATE jobs SET approved_by = 'mallory'");
            refused.put("faults_worker ", "UPDATE jobs SET parameters = '{}'");
            refused.put("faults_worker  ", "SELECT key_hash FROM api_keys");
            refused.put("faults_worker   ", "DELETE FROM job_events");
            // Writes the column grants allow but no statement of that role makes: refused by the
            // transition guards of roles.sql (scenario 14).
            long pendingJob = create(api, approveKey, "{\"type\":\"record\"}");
            refused.put(
                    "faults_api     ",
                    "UPDATE jobs SET last_error = 'forged: nothing went wrong' WHERE id = " + failing);
            refused.put("faults_api      ", "UPDATE jobs SET approved_by = 'mallory' WHERE id = " + done);
            refused.put(
                    "faults_api       ",
                    "INSERT INTO job_events (job_id, kind, status, attempt) VALUES (" + done
                            + ", 'failed', 'completed', 1)");
            refused.put(
                    "faults_worker    ",
                    "INSERT INTO jobs (type, status, approved_by, approved_at) VALUES ('record', 'approved', 'mallory', now())");
            refused.put("faults_worker     ", "DELETE FROM jobs WHERE status = 'pending'");
            refused.put("faults_worker      ", "UPDATE jobs SET current_stage = 'mine' WHERE id = " + pendingJob);
            int guarded = 6;
            refused.put("faults_dba", "INSERT INTO jobs (type) VALUES ('noop')");
            refused.put("faults_dba ", "UPDATE jobs SET status = 'cancelled'");
            refused.put("faults_dba  ", "SELECT key_hash FROM api_keys");
            refused.put("faults_dba   ", "TRUNCATE jobs CASCADE");
            String before = snapshot(c);
            for (var e : refused.entrySet()) {
                String user = e.getKey().strip();
                SQLException denied = catchThrowableOfType(SQLException.class, () -> {
                    try (Connection conn = c.pg.connect(c.database, user, "secret-" + user);
                            Statement st = conn.createStatement()) {
                        st.execute(e.getValue());
                    }
                });
                assertThat((Throwable) denied).as("%s: %s", user, e.getValue()).isNotNull();
                assertThat(denied.getSQLState())
                        .as("%s: %s -> %s", user, e.getValue(), denied.getMessage())
                        .isEqualTo("42501");
            }
            assertThat(snapshot(c)).as("tables after the refused writes").isEqualTo(before);

            // What they were given still works, and the logins carry their timeouts.
            try (Connection dba = c.pg.connect(c.database, "faults_dba", "secret-faults_dba");
                    Statement st = dba.createStatement()) {
                var rs = st.executeQuery("SELECT count(*) FROM jobs");
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(4);
                rs = st.executeQuery("SHOW statement_timeout");
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("5min");
            }
            try (Connection apiConn = c.pg.connect(c.database, "faults_api", "secret-faults_api");
                    Statement st = apiConn.createStatement()) {
                var rs = st.executeQuery("SHOW idle_in_transaction_session_timeout");
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("1min");
            }
            // Pruning under gaffer_worker takes the jobs' history with them (the trigger of V007
            // deletes job_events with its owner's rights; the role itself may not).
            try (Database asWorker = Database.open(new DatabaseConfig(
                    new DatabaseUrl(c.pg.jdbcUrl(c.database), "faults_worker", "secret-faults_worker"),
                    1,
                    Duration.ofSeconds(10),
                    "faults-prune"))) {
                assertThat(new ReclaimStore(asWorker.dataSource()).pruneFinished(Duration.ofMillis(1), 100))
                        .isEqualTo(3);
            }
            assertThat(c.longOf("SELECT count(*) FROM jobs"))
                    .as("the pending one stays")
                    .isEqualTo(1);
            assertThat(c.longOf("SELECT count(*) FROM job_history")).isEqualTo(1);

            new Summary("14-transition-guards")
                    .put("forged_writes", guarded)
                    .put("refused_42501", guarded)
                    .put("rows_changed_by_them", 0)
                    .write();
            new Summary("10-least-privilege")
                    .put("jobs", 4)
                    .put("roles", 3)
                    .put("forbidden_statements", refused.size())
                    .put("refused_42501", refused.size())
                    .put("rows_changed_by_them", 0)
                    .write();
        }
    }

    private static String snapshot(Cluster c) {
        return c.textOf(
                        "SELECT string_agg(concat_ws(',', id, status, attempt, approved_by, locked_by, type, parameters::text, updated_at), ';' ORDER BY id) FROM jobs")
                + " | " + c.longOf("SELECT count(*) FROM job_history")
                + " | " + c.textOf("SELECT string_agg(role::text, ',' ORDER BY id) FROM api_keys")
                + " | " + c.longOf("SELECT count(*) FROM workers");
    }

    private static long create(Cluster.Api api, String key, String body) throws Exception {
        HttpResponse<String> r = api.post("/api/v3/jobs", key, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("job_id").asLong();
    }

    private static HttpResponse<String> call(Cluster.Api api, String key, String method, String path) throws Exception {
        HttpResponse<String> r = Cluster.HTTP.send(
                HttpRequest.newBuilder(URI.create(api.base() + path))
                        .header("Authorization", "Bearer " + key)
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            System.out.println(method + " " + path + " -> " + r.statusCode() + " " + r.body());
        }
        return r;
    }

    private static String status(Cluster.Api api, String key, long id) throws Exception {
        JsonNode job = JSON.readTree(call(api, key, "GET", "/api/v3/jobs/" + id).body());
        return job.path("status").asText();
    }
}
