package dev.gaffer.api;

import static dev.gaffer.api.ErrorResponsesTest.problem;
import static dev.gaffer.api.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.JsonLimits;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Input that once got a 500, was stored changed, or broke a listing for everyone: each gets a
 * 4xx naming what was wrong, and nothing is stored.
 */
class BadInputTest {

    static TestApi api;
    long jobsBefore;

    @BeforeAll
    static void start() {
        api = new TestApi("bad_input");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @BeforeEach
    void count() {
        jobsBefore = jobs();
    }

    private static long jobs() {
        return api.fixtures.count("SELECT count(*) FROM jobs");
    }

    private JsonNode refused(String body, int status, String field) {
        JsonNode p = problem(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, body), status);
        if (field != null) {
            assertThat(p.path("field").asText()).as(body).isEqualTo(field);
        }
        assertThat(jobs()).as("nothing stored for " + body).isEqualTo(jobsBefore);
        return p;
    }

    @Test
    void deeplyNestedParametersAre422AndCanNeverBreakTheListing() {
        String deep = "{\"a\":".repeat(999) + "1" + "}".repeat(999);
        JsonNode p = refused("{\"type\":\"noop\",\"parameters\":" + deep + "}", 422, null);
        assertThat(p.get("field").asText()).startsWith("parameters.a.a.a");
        assertThat(p.get("detail").asText()).contains("deeper than " + JsonLimits.MAX_DEPTH);
        refused("{\"type\":\"noop\",\"storyboard\":" + "[".repeat(200) + "]".repeat(200) + "}", 422, null);

        // The deepest document accepted is served back, in the job and in the list.
        String deepest = "{\"a\":".repeat(JsonLimits.MAX_DEPTH - 1) + "1" + "}".repeat(JsonLimits.MAX_DEPTH - 1);
        var ok = api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":" + deepest + "}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        assertThat(api.get("/api/v3/jobs?limit=200", ApiKeyRole.READ).statusCode())
                .isEqualTo(200);
    }

    @Test
    void longKeysAndStringsAre422NamingTheLimit() {
        String key = "k".repeat(JsonLimits.MAX_KEY_LENGTH + 1);
        JsonNode p = refused("{\"type\":\"noop\",\"parameters\":{\"" + key + "\":1}}", 422, null);
        assertThat(p.get("detail").asText()).contains("at most " + JsonLimits.MAX_KEY_LENGTH);
    }

    @Test
    void nulCharactersAre422NotA500() {
        refused("{\"type\":\"noop\",\"parameters\":{\"name\":\"a\\u0000b\"}}", 422, "parameters.name");
        JsonNode key = refused("{\"type\":\"noop\",\"parameters\":{\"a\\u0000b\":1}}", 422, null);
        assertThat(key.get("detail").asText()).contains("NUL");
        refused(
                "{\"type\":\"video\",\"storyboard\":{\"scenes\":[{\"duration\":1,\"caption\":\"x\\u0000\"}]}}",
                422,
                "storyboard.scenes[0].caption");
        for (String filter : new String[] {"type", "queue"}) {
            JsonNode f = problem(
                    api.get(
                            "/api/v3/jobs?" + filter + "=" + URLEncoder.encode("no\u0000de", StandardCharsets.UTF_8),
                            ApiKeyRole.READ),
                    422);
            assertThat(f.get("field").asText()).isEqualTo(filter);
        }
    }

    @Test
    void valuesThatWouldBeStoredChangedAre422() {
        refused("{\"type\":\"noop\",\"parameters\":{\"x\":1e400}}", 422, "parameters.x");
        refused("{\"type\":\"noop\",\"parameters\":{\"x\":-1e400}}", 422, "parameters.x");
        refused("{\"type\":\"noop\",\"parameters\":{\"x\":1e-400}}", 422, "parameters.x");
        JsonNode s = refused("{\"type\":\"noop\",\"parameters\":{\"s\":\"\\ud800\"}}", 422, "parameters.s");
        assertThat(s.get("detail").asText()).contains("surrogate");
        JsonNode late = refused("{\"type\":\"noop\",\"run_at\":\"+300000-01-01T00:00:00Z\"}", 422, "run_at");
        assertThat(late.get("detail").asText()).contains("9999-12-31");
        refused("{\"type\":\"noop\",\"run_at\":\"-5000-01-01T00:00:00Z\"}", 422, "run_at");

        // What is accepted comes back as it was sent.
        var ok = api.post(
                "/api/v3/jobs",
                ApiKeyRole.SUBMIT,
                "{\"type\":\"noop\",\"parameters\":{\"pi\":3.14159,\"big\":1.5e300,\"emoji\":\"\\ud83c\\udfac\"}}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        JsonNode stored = json(api.get("/api/v3/jobs/" + json(ok).get("job_id").asLong(), ApiKeyRole.READ))
                .get("parameters");
        assertThat(stored.get("pi").asDouble()).isEqualTo(3.14159);
        assertThat(stored.get("big").asDouble()).isEqualTo(1.5e300);
        assertThat(stored.get("emoji").asText()).isEqualTo("\ud83c\udfac");
    }

    @Test
    void controlFieldsAndBuiltInTypesAreCheckedAtCreation() {
        JsonNode t = refused("{\"type\":\"noop\",\"parameters\":{\"timeout_ms\":10000000000000}}", 422, null);
        assertThat(t.get("field").asText()).isEqualTo("parameters.timeout_ms");
        assertThat(t.get("detail").asText()).contains("30 days");
        refused("{\"type\":\"noop\",\"parameters\":{\"timeout_ms\":0}}", 422, "parameters.timeout_ms");
        refused("{\"type\":\"noop\",\"parameters\":{\"timeout_ms\":\"soon\"}}", 422, "parameters.timeout_ms");
        refused("{\"type\":\"sleep\"}", 422, "parameters.ms");
        refused("{\"type\":\"sleep\",\"parameters\":{\"ms\":-1}}", 422, "parameters.ms");
        refused("{\"type\":\"sleep\",\"parameters\":{\"ms\":100000000000}}", 422, "parameters.ms");
        refused("{\"type\":\"scene\",\"parameters\":{}}", 422, "parameters.scene");
        JsonNode range = refused("{\"type\":\"noop\",\"priority\":2147483648}", 422, "priority");
        assertThat(range.get("detail").asText()).contains("-100 to 100");
        JsonNode attempts = refused("{\"type\":\"noop\",\"max_attempts\":1001}", 422, "max_attempts");
        assertThat(attempts.get("detail").asText()).contains("1 to 1000");
        assertThat(api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"sleep\",\"parameters\":{\"ms\":5}}")
                        .statusCode())
                .isEqualTo(201);
    }

    @Test
    void aBodyThatDoesNotSayItIsJsonIs415() {
        for (String type : new String[] {null, "text/plain", "application/x-www-form-urlencoded"}) {
            HttpRequest.Builder b = api.request("/api/v3/jobs", ApiKeyRole.SUBMIT)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"noop\"}"));
            if (type != null) {
                b.header("Content-Type", type);
            }
            JsonNode p = problem(api.send(b.build()), 415);
            assertThat(p.get("detail").asText()).contains("application/json");
        }
        var withCharset = api.send(api.request("/api/v3/jobs", ApiKeyRole.SUBMIT)
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"noop\"}"))
                .build());
        assertThat(withCharset.statusCode()).isEqualTo(201);
        jobsBefore++;
        assertThat(jobs()).isEqualTo(jobsBefore);
    }

    @Test
    void aWrongMethodOnAKnownPathIs405WithAllow() {
        var put = api.send(api.request("/api/v3/jobs", ApiKeyRole.ADMIN)
                .PUT(HttpRequest.BodyPublishers.noBody())
                .build());
        problem(put, 405);
        assertThat(put.headers().firstValue("Allow").orElseThrow())
                .contains("GET")
                .contains("POST");
        var getApprove = api.get("/api/v3/jobs/1/approve", ApiKeyRole.ADMIN);
        problem(getApprove, 405);
        assertThat(getApprove.headers().firstValue("Allow").orElseThrow()).isEqualTo("POST");
        problem(api.get("/api/v3/no-such-thing", ApiKeyRole.ADMIN), 404);
    }

    @Test
    void jettysOwnRefusalsAreProblemJsonToo() throws IOException {
        String big = "GET /api/v3/jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(64 * 1024) + "\r\n\r\n";
        String tooBig = raw(big);
        assertThat(tooBig).startsWith("HTTP/1.1 431");
        assertThat(tooBig).containsIgnoringCase("Content-Type: application/problem+json");
        assertThat(tooBig).contains("\"status\":431").doesNotContain("<html");

        for (String path : new String[] {"/../x", "/%zz", "/api/v3/jobs/%u0000"}) {
            String badPath = raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(badPath).as(path).startsWith("HTTP/1.1 400");
            assertThat(badPath).as(path).containsIgnoringCase("Content-Type: application/problem+json");
            assertThat(badPath).as(path).contains("\"status\":400").doesNotContain("<html");
        }
    }

    private static String raw(String request) throws IOException {
        URI base = URI.create(api.url("/"));
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            StringBuilder sb = new StringBuilder();
            int n;
            while ((n = in.read(buf)) > 0) {
                sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                if (sb.indexOf("\r\n\r\n") > 0 && sb.indexOf("}") > 0) {
                    break;
                }
            }
            return sb.toString();
        }
    }
}
