package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.auth.ApiKeyRole;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How a JSON body goes out: a small one whole, with its Content-Length; one large enough, gzipped
 * for a client that accepts it, and the same document once unzipped. And what a job's JSON
 * documents hold comes back as it went in.
 */
class ResponseBodyTest {

    static TestApi api;

    @BeforeAll
    static void start() {
        api = new TestApi("api_bodies");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void aSmallBodyIsSentWholeWithItsLength() {
        long id = api.createJob("noop");
        var r = api.get("/api/v3/jobs/" + id, ApiKeyRole.READ);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().firstValue("Content-Length"))
                .hasValue(Integer.toString(r.body().getBytes(StandardCharsets.UTF_8).length));
        assertThat(r.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(r.body()).startsWith("{\"job_id\":" + id + ",\"type\":\"noop\",");
    }

    @Test
    void aLargeBodyIsGzippedForAClientThatAcceptsIt() throws Exception {
        for (int i = 0; i < 10; i++) {
            api.createJob("noop");
        }
        HttpResponse<String> plain = api.get("/api/v3/jobs?limit=10", ApiKeyRole.READ);
        assertThat(plain.body().length()).isGreaterThan(1500);
        assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();

        HttpResponse<byte[]> zipped = api.http.send(
                api.request("/api/v3/jobs?limit=10", ApiKeyRole.READ)
                        .header("Accept-Encoding", "gzip")
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(zipped.statusCode()).isEqualTo(200);
        assertThat(zipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
        try (var in = new GZIPInputStream(new ByteArrayInputStream(zipped.body()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(plain.body());
        }
    }

    @Test
    void aJobsDocumentsComeBackAsTheyWentIn() {
        String parameters =
                "{\"text\":\"é 🐱 \\u0001 \\\"q\\\" </script>\",\"n\":-12,\"big\":123456789012345678901234567890,"
                        + "\"x\":1.5,\"tiny\":1.0E-7,\"t\":true,\"nil\":null,\"empty\":{},\"list\":[],"
                        + "\"nested\":[[1,[2,{\"a\":[null]}]],\"s\"]}";
        var created =
                api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"parameters\":" + parameters + "}");
        assertThat(created.statusCode()).isEqualTo(201);
        long id = TestApi.json(created).get("job_id").asLong();
        var r = api.get("/api/v3/jobs/" + id, ApiKeyRole.READ);
        assertThat(TestApi.json(r).get("parameters")).isEqualTo(TestApi.parse(parameters));
        // Read back from jsonb, whose keys come out in its own order: the same document as the
        // one created answered with, byte for byte.
        assertThat(TestApi.json(r).get("parameters").toString())
                .isEqualTo(TestApi.json(created).get("parameters").toString());
        assertThat(r.body()).isEqualTo(created.body());
    }
}
