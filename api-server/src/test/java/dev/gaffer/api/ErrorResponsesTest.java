package dev.gaffer.api;

import static dev.gaffer.api.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kind of bad request gets a problem+json with a useful detail, never a 500 or a stack trace. */
class ErrorResponsesTest {

    static TestApi api;

    @BeforeAll
    static void start() {
        api = new TestApi("api_errors");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    static JsonNode problem(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
        JsonNode p = json(r);
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.get("title").asText()).isNotBlank();
        assertThat(p.get("type").asText()).isEqualTo("about:blank");
        assertThat(p.get("detail").asText()).isNotBlank();
        return p;
    }

    @Test
    void malformedJsonIs400() {
        JsonNode p = problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\": \"noop\","), 400);
        assertThat(p.get("detail").asText()).startsWith("the request body is not valid JSON");
        problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "[1,2]"), 400);
        problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, ""), 400);
    }

    @Test
    void nonNumericIdIs400NamingTheId() {
        JsonNode p = problem(api.get("/api/v3/jobs/abc", ApiKeyRole.READ), 400);
        assertThat(p.get("field").asText()).isEqualTo("id");
        assertThat(p.get("detail").asText()).contains("'abc'");
        problem(api.post("/api/v3/jobs/12x/approve", ApiKeyRole.APPROVE, null), 400);
        problem(api.get("/api/v3/jobs/99999999999999999999999", ApiKeyRole.READ), 400);
        problem(api.get("/api/v3/jobs/-4", ApiKeyRole.READ), 400);
    }

    @Test
    void unknownTypeIs422NamingType() {
        JsonNode p = problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"rocket\"}"), 422);
        assertThat(p.get("field").asText()).isEqualTo("type");
        assertThat(p.get("detail").asText()).contains("rocket").contains("noop");
        assertThat(problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{}"), 422)
                        .get("field")
                        .asText())
                .isEqualTo("type");
    }

    @Test
    void invalidFieldsAre422NamingTheField() {
        assertField("{\"type\":\"noop\",\"priority\":1000}", "priority");
        assertField("{\"type\":\"noop\",\"priority\":\"high\"}", "priority");
        assertField("{\"type\":\"noop\",\"parameters\":[1]}", "parameters");
        assertField("{\"type\":\"noop\",\"max_attempts\":0}", "max_attempts");
        assertField("{\"type\":\"noop\",\"queue\":\"Bad Queue\"}", "queue");
        assertField("{\"type\":\"noop\",\"run_at\":\"tomorrow\"}", "run_at");
        assertField("{\"type\":\"noop\",\"max_atempts\":2}", "max_atempts");
        assertField("{\"type\":7}", "type");
    }

    @Test
    void anUnrenderableVideoStoryboardIs422NamingTheSceneAndCreatesNothing() {
        long before = api.fixtures.count("SELECT count(*) FROM jobs");
        assertField("{\"type\":\"video\",\"storyboard\":{\"scenes\":[]}}", "storyboard.scenes");
        assertField(
                "{\"type\":\"video\",\"storyboard\":{\"scenes\":[{\"duration\":1},{\"duration\":\"long\"}]}}",
                "storyboard.scenes[1].duration");
        assertField(
                "{\"type\":\"video\",\"parameters\":{\"width\":641},\"storyboard\":{\"scenes\":[{\"duration\":1}]}}",
                "parameters.width");
        assertField(
                "{\"type\":\"video\",\"storyboard\":{\"scenes\":[{\"duration\":1,\"background\":\"red; rm -rf /\"}]}}",
                "storyboard.scenes[0].background");
        assertThat(api.fixtures.count("SELECT count(*) FROM jobs")).isEqualTo(before);
        var ok = api.post(
                "/api/v3/jobs",
                ApiKeyRole.SUBMIT,
                "{\"type\":\"video\",\"storyboard\":{\"scenes\":[{\"duration\":1,\"caption\":\"hi\"}]}}");
        assertThat(ok.statusCode()).isEqualTo(201);
    }

    private static void assertField(String body, String field) {
        JsonNode p = problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, body), 422);
        assertThat(p.get("field").asText()).as(body).isEqualTo(field);
        assertThat(p.get("detail").asText()).contains(field);
    }

    @Test
    void bodyOverTheLimitIs413() {
        String big = "{\"type\":\"noop\",\"parameters\":{\"blob\":\"" + "x".repeat(1024 * 1024 + 10) + "\"}}";
        JsonNode p = problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, big), 413);
        assertThat(p.get("detail").asText()).contains("GAFFER_MAX_BODY_BYTES");
    }

    /**
     * The 413 must reach the client even though the server refuses before reading the body: a
     * connection closed with unread bytes is reset, and the reset throws away the answer (the
     * client sees "header parser received no bytes"). Sizes just over the limit, a few times it,
     * declared and chunked, on fresh and reused connections.
     */
    @Test
    void everyBodyOverTheLimitGetsItsAnswerNotAReset() {
        ApiConfig small = new ApiConfig("127.0.0.1", 0, true, false, 65_536, ApiConfig.defaultJobTypes(), 3);
        try (TestApi tight = new TestApi(TestPostgres.freshDatabase("api_errors_limit"), small)) {
            for (int i = 0; i < 200; i++) {
                int size = 65_537 + (i % 8) * 9_000;
                String big = "{\"type\":\"noop\",\"parameters\":{\"blob\":\"" + "x".repeat(size) + "\"}}";
                problem(tight.post("/api/v3/jobs", ApiKeyRole.SUBMIT, big), 413);
                byte[] bytes = big.getBytes(StandardCharsets.UTF_8);
                HttpResponse<String> chunked = tight.send(tight.request("/api/v3/jobs", ApiKeyRole.SUBMIT)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes)))
                        .build());
                problem(chunked, 413);
            }
            // The server is still fine for the next request.
            assertThat(tight.get("/api/v3/jobs", ApiKeyRole.READ).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void unknownRouteAndUnknownJobAre404() {
        JsonNode p = problem(api.get("/api/v3/nothing-here", ApiKeyRole.READ), 404);
        assertThat(p.get("detail").asText()).contains("/api/v3/nothing-here");
        problem(api.get("/nope", null), 404);
        JsonNode job = problem(api.get("/api/v3/jobs/424242", ApiKeyRole.READ), 404);
        assertThat(job.get("detail").asText()).isEqualTo("job 424242 does not exist");
    }

    @Test
    void missingOrInvalidKeyIs401() {
        var missing = api.send(HttpRequest.newBuilder(URI.create(api.url("/api/v3/jobs")))
                .GET()
                .build());
        problem(missing, 401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).isPresent();
        problem(
                api.send(HttpRequest.newBuilder(URI.create(api.url("/api/v3/jobs")))
                        .header("Authorization", "Bearer gfr_notakey")
                        .GET()
                        .build()),
                401);
        problem(
                api.send(HttpRequest.newBuilder(URI.create(api.url("/api/v3/jobs")))
                        .header("Authorization", "Basic dXNlcjpwYXNz")
                        .GET()
                        .build()),
                401);
        String revoked =
                api.keys.create("gone", dev.gaffer.auth.ApiKeyRole.ADMIN).key();
        api.keys.revoke("gone");
        problem(
                api.send(HttpRequest.newBuilder(URI.create(api.url("/api/v3/stats")))
                        .header("Authorization", "Bearer " + revoked)
                        .GET()
                        .build()),
                401);
    }

    @Test
    void insufficientRoleIs403() {
        long id = api.createJob("noop");
        problem(api.post("/api/v3/jobs", ApiKeyRole.READ, "{\"type\":\"noop\"}"), 403);
        JsonNode p = problem(api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.SUBMIT, null), 403);
        assertThat(p.get("detail").asText()).contains("approve");
        problem(api.post("/api/v3/jobs/" + id + "/cancel", ApiKeyRole.SUBMIT, null), 403);
        problem(api.post("/api/v3/jobs/" + id + "/retry", ApiKeyRole.READ, null), 403);
        assertThat(api.get("/api/v3/jobs/" + id, ApiKeyRole.READ).statusCode()).isEqualTo(200);
        assertThat(json(api.get("/api/v3/jobs/" + id, ApiKeyRole.READ))
                        .get("status")
                        .asText())
                .isEqualTo("pending");
    }

    @Test
    void publicRoutesNeedNoKey() {
        assertThat(api.get("/health/live", null).statusCode()).isEqualTo(200);
        assertThat(api.get("/health/ready", null).statusCode()).isEqualTo(200);
        assertThat(api.get("/metrics", null).statusCode()).isEqualTo(200);
        assertThat(api.get("/api/v3/openapi.json", null).statusCode()).isEqualTo(200);
        assertThat(api.get("/api/v3/docs", null).statusCode()).isEqualTo(200);
    }
}
