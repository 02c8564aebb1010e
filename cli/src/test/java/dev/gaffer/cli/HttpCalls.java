package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/** Calls of the API over real HTTP with a bearer key, for the end-to-end tests of the review routes. */
final class HttpCalls {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A status and its JSON body (null when empty). */
    record Reply(int status, JsonNode body) {}

    private HttpCalls() {}

    static JsonNode awaitJob(String base, String key, long id, Predicate<JsonNode> done) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        JsonNode job = null;
        while (System.nanoTime() < end) {
            job = get(base, key, "/api/v3/jobs/" + id);
            if (done.test(job)) {
                return job;
            }
            if (List.of("failed", "cancelled", "rejected")
                    .contains(job.path("status").asText())) {
                fail("job " + id + " ended " + job);
            }
            Thread.sleep(100);
        }
        fail("job " + id + " did not get there in 120 s: " + job);
        return job;
    }

    static JsonNode get(String base, String key, String path) throws Exception {
        Reply r = send(base, key, "GET", path, null, null);
        assertThat(r.status()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return r.body();
    }

    static Reply send(String base, String key, String method, String path, String body, String ifMatch)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body().isBlank() ? null : JSON.readTree(r.body()));
    }

    static void download(String base, String key, String path, Path to) throws Exception {
        HttpResponse<InputStream> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Authorization", "Bearer " + key)
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        try (InputStream in = r.body()) {
            Files.copy(in, to);
        }
    }
}
