package dev.gaffer.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.auth.ApiKeyRole;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Scenario 9: bad input against the real {@code gaffer api} process, over real HTTP, with auth on.
 * Each refusal is the right 4xx with a problem+json detail that names what was wrong, and leaves
 * the tables exactly as they were.
 */
class ApiBadInputIT {

    static final ObjectMapper JSON = new ObjectMapper();

    record Reply(int status, String contentType, JsonNode body) {
        String detail() {
            return body == null ? "" : body.path("detail").asText();
        }
    }

    private Cluster.Api api;
    private final Map<ApiKeyRole, String> keys = new EnumMap<>(ApiKeyRole.class);

    @Test
    void badInputGetsAClear4xxAndChangesNothingAndConcurrentRacesHaveOneWinner() throws Exception {
        try (Cluster c = new Cluster("s9-api-bad-input")) {
            for (ApiKeyRole role : ApiKeyRole.values()) {
                keys.put(role, c.createKey("faults-" + role.name().toLowerCase(), role));
            }
            api = c.startApi(Map.of("GAFFER_MAX_BODY_BYTES", "65536"));
            int refusals = 0;

            // A pending job, and one that has been cancelled: targets for illegal transitions.
            long pending = created(post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\"}"));
            long cancelled = created(post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\"}"));
            assertThat(post("/api/v3/jobs/" + cancelled + "/cancel", ApiKeyRole.APPROVE, "")
                            .status())
                    .isEqualTo(200);
            String before = snapshot(c);

            // Malformed, oversized and wrongly typed bodies.
            refusals +=
                    expect(post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\": \"noop\", \"parameters\": {"), 400, "");
            refusals += expect(
                    post(
                            "/api/v3/jobs",
                            ApiKeyRole.SUBMIT,
                            "{\"type\":\"noop\",\"parameters\":{\"x\":\"" + "a".repeat(70_000) + "\"}}"),
                    413,
                    "GAFFER_MAX_BODY_BYTES");
            refusals += expect(post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":7}"), 422, "type");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"priority\":\"high\"}"),
                    422,
                    "priority");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":[1]}"),
                    422,
                    "parameters");
            refusals += expect(
                    post(
                            "/api/v3/jobs",
                            ApiKeyRole.SUBMIT,
                            "{\"type\":\"noop\",\"max_attempts\":\"3; DROP TABLE jobs\"}"),
                    422,
                    "max_attempts");
            refusals += expect(post("/api/v3/jobs", ApiKeyRole.SUBMIT, "[]"), 400, "");
            // Injection attempts in places that are not free text are refused, not run.
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop'; DELETE FROM jobs; --\"}"), 422, "type");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"queue\":\"q' OR '1'='1\"}"),
                    422,
                    "queue");
            refusals += expect(get("/api/v3/jobs/1%20OR%201=1", ApiKeyRole.READ), 400, "1 OR 1=1");
            refusals += expect(get("/api/v3/jobs?status=completed'%20OR%20'1'='1", ApiKeyRole.READ), 422, "status");
            // Unknown ids and illegal transitions.
            refusals += expect(get("/api/v3/jobs/987654321", ApiKeyRole.READ), 404, "987654321");
            refusals += expect(post("/api/v3/jobs/987654321/approve", ApiKeyRole.APPROVE, ""), 404, "987654321");
            refusals += expect(post("/api/v3/jobs/" + cancelled + "/approve", ApiKeyRole.APPROVE, ""), 422, "pending");
            refusals += expect(post("/api/v3/jobs/" + cancelled + "/cancel", ApiKeyRole.APPROVE, ""), 422, "");
            refusals += expect(post("/api/v3/jobs/" + pending + "/retry", ApiKeyRole.APPROVE, ""), 422, "");
            // Missing, invalid and under-privileged keys.
            refusals += expect(
                    send(json("/api/v3/jobs/" + pending + "/approve", null, "").build()), 401, "");
            refusals += expect(
                    send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v3/jobs/" + pending + "/approve"))
                            .header("Authorization", "Bearer gfr_not-a-real-key")
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build()),
                    401,
                    "");
            refusals += expect(post("/api/v3/jobs/" + pending + "/approve", ApiKeyRole.READ, ""), 403, "approve");
            refusals += expect(post("/api/v3/jobs/" + pending + "/approve", ApiKeyRole.SUBMIT, ""), 403, "approve");
            refusals += expect(post("/api/v3/jobs", ApiKeyRole.READ, "{\"type\":\"noop\"}"), 403, "submit");

            // Input that used to be a 500, or stored changed (issue 13, items 8 to 10).
            String deep = "{\"a\":".repeat(999) + "1" + "}".repeat(999);
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":" + deep + "}"),
                    422,
                    "deeper than 64 levels");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":{\"n\":\"a\\u0000b\"}}"),
                    422,
                    "NUL");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":{\"a\\u0000\":1}}"),
                    422,
                    "NUL");
            refusals += expect(
                    post(
                            "/api/v3/jobs",
                            ApiKeyRole.SUBMIT,
                            "{\"type\":\"noop\",\"storyboard\":{\"caption\":\"\\u0000\"}}"),
                    422,
                    "storyboard.caption");
            refusals += expect(get("/api/v3/jobs?type=a%00b", ApiKeyRole.READ), 422, "type");
            refusals += expect(get("/api/v3/jobs?queue=%00", ApiKeyRole.READ), 422, "queue");
            refusals += expect(
                    post(
                            "/api/v3/jobs",
                            ApiKeyRole.SUBMIT,
                            "{\"type\":\"noop\",\"run_at\":\"+300000-01-01T00:00:00Z\"}"),
                    422,
                    "run_at");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"run_at\":\"-5000-01-01T00:00:00Z\"}"),
                    422,
                    "run_at");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":{\"x\":1e400}}"),
                    422,
                    "parameters.x");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":{\"s\":\"\\ud800\"}}"),
                    422,
                    "surrogate");
            refusals += expect(
                    post(
                            "/api/v3/jobs",
                            ApiKeyRole.SUBMIT,
                            "{\"type\":\"noop\",\"parameters\":{\"timeout_ms\":10000000000000}}"),
                    422,
                    "parameters.timeout_ms");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"sleep\",\"parameters\":{\"ms\":-5}}"),
                    422,
                    "parameters.ms");
            refusals += expect(
                    post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"priority\":2147483648}"),
                    422,
                    "-100 to 100");
            refusals += expect(
                    send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v3/jobs"))
                            .header("Authorization", "Bearer " + keys.get(ApiKeyRole.SUBMIT))
                            .header("Content-Type", "text/plain")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"noop\"}"))
                            .build()),
                    415,
                    "application/json");
            Reply wrongMethod = send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v3/jobs"))
                    .header("Authorization", "Bearer " + keys.get(ApiKeyRole.ADMIN))
                    .DELETE()
                    .build());
            refusals += expect(wrongMethod, 405, "allowed");

            assertThat(snapshot(c))
                    .as("jobs and events after %d refused requests", refusals)
                    .isEqualTo(before);

            // Hostile strings in free-text fields are stored and returned verbatim.
            String hostile =
                    "Robert'); DROP TABLE jobs; -- \\\" \u0000x \u202e <script>alert(1)</script> $$ ; SELECT pg_sleep(10)";
            hostile = hostile.replace("\u0000", ""); // PostgreSQL text cannot hold NUL; JSON may not carry it either
            ObjectNode body = JSON.createObjectNode().put("type", "noop");
            body.putObject("parameters").put("name", hostile).put("'; --", 1);
            body.putObject("storyboard").put("caption", hostile);
            Reply stored = post("/api/v3/jobs", ApiKeyRole.SUBMIT, body.toString());
            assertThat(stored.status()).isEqualTo(201);
            long storedId = created(stored);
            Reply fetched = get("/api/v3/jobs/" + storedId, ApiKeyRole.READ);
            assertThat(fetched.body().path("parameters").path("name").asText()).isEqualTo(hostile);
            assertThat(fetched.body().path("parameters").path("'; --").asInt()).isEqualTo(1);
            assertThat(fetched.body().path("storyboard").path("caption").asText())
                    .isEqualTo(hostile);
            assertThat(c.textOf("SELECT parameters->>'name' FROM jobs WHERE id = ?", storedId))
                    .isEqualTo(hostile);
            assertThat(c.longOf("SELECT count(*) FROM jobs")).isEqualTo(3);

            // 50 concurrent approvals of one job: one winner, 49 told it is no longer pending.
            List<Reply> approvals =
                    concurrently(50, () -> post("/api/v3/jobs/" + pending + "/approve", ApiKeyRole.APPROVE, ""));
            long approvedOk = approvals.stream().filter(r -> r.status() == 200).count();
            long approvedLost = approvals.stream()
                    .filter(r -> r.status() == 422 && r.detail().contains("pending"))
                    .count();
            assertThat(approvedOk).as("approvals answered 200").isEqualTo(1);
            assertThat(approvedLost).as("approvals answered 422").isEqualTo(49);
            assertThat(c.longOf("SELECT count(*) FROM job_history WHERE job_id = ? AND kind = 'approved'", pending))
                    .isEqualTo(1);

            // 30 concurrent creates with one Idempotency-Key: one job, every answer names it.
            List<Reply> creates = concurrently(
                    30,
                    () -> send(json("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":{\"k\":1}}")
                            .header("Idempotency-Key", "faults-'; DROP TABLE jobs; --")
                            .build()));
            assertThat(creates.stream().filter(r -> r.status() == 201)).hasSize(1);
            assertThat(creates.stream().filter(r -> r.status() == 200)).hasSize(29);
            assertThat(creates.stream()
                            .map(r -> r.body().path("job_id").asLong())
                            .distinct())
                    .hasSize(1);
            assertThat(c.longOf("SELECT count(*) FROM jobs WHERE idempotency_key = ?", "faults-'; DROP TABLE jobs; --"))
                    .isEqualTo(1);
            assertThat(c.longOf("SELECT count(*) FROM job_history WHERE kind = 'created'"))
                    .isEqualTo(4);

            new Summary("9-api-bad-input")
                    .put("refused_requests", refusals)
                    .put("partial_writes", 0)
                    .put("concurrent_approvals", approvals.size())
                    .put("approval_winners", approvedOk)
                    .put("concurrent_idempotent_creates", creates.size())
                    .put("jobs_created_by_them", 1)
                    .write();
        }
    }

    private static String snapshot(Cluster c) {
        return c.textOf(
                        "SELECT string_agg(concat_ws(',', id, status, attempt, approved_by, updated_at, parameters::text), ';' ORDER BY id) FROM jobs")
                + " | " + c.longOf("SELECT count(*) FROM job_history") + " | "
                + c.longOf("SELECT count(*) FROM api_keys WHERE role <> 'admin' OR true");
    }

    private int expect(Reply r, int status, String detailContains) {
        assertThat(r.status()).as("status; body: %s", r.body()).isEqualTo(status);
        assertThat(r.contentType()).as("content type").startsWith("application/problem+json");
        assertThat(r.detail()).as("detail").isNotBlank().contains(detailContains);
        return 1;
    }

    private static long created(Reply r) {
        assertThat(r.status()).as("create: %s", r.body()).isIn(200, 201);
        return r.body().path("job_id").asLong();
    }

    private Reply get(String path, ApiKeyRole role) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.base() + path))
                .timeout(Duration.ofSeconds(20))
                .GET();
        if (role != null) {
            b.header("Authorization", "Bearer " + keys.get(role));
        }
        return send(b.build());
    }

    private Reply post(String path, ApiKeyRole role, String body) {
        return send(json(path, role, body).build());
    }

    private HttpRequest.Builder json(String path, ApiKeyRole role, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.base() + path))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (role != null) {
            b.header("Authorization", "Bearer " + keys.get(role));
        }
        return b;
    }

    private static Reply send(HttpRequest request) {
        try {
            HttpResponse<String> r = Cluster.HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode body = null;
            try {
                body = r.body().isBlank() ? null : JSON.readTree(r.body());
            } catch (Exception notJson) {
                // left null; the assertions say so
            }
            return new Reply(
                    r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), body);
        } catch (Exception e) {
            throw new AssertionError(request.method() + " " + request.uri() + " failed: " + e, e);
        }
    }

    private static List<Reply> concurrently(int n, Callable<Reply> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Reply>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return call.call();
                }));
            }
            go.countDown();
            List<Reply> out = new ArrayList<>();
            for (Future<Reply> f : futures) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
