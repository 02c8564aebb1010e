package dev.gaffer.api;

import static dev.gaffer.api.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A database that cannot be reached is a 503 with a plain detail, not a 500. */
class DatabaseUnavailableTest {

    @Test
    void everyDatabaseBackedRouteAnswers503WhenPostgresIsUnreachable() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Database db = Database.open(new DatabaseConfig(
                new DatabaseUrl("jdbc:postgresql://127.0.0.1:" + closedPort + "/none", "x", null),
                2,
                Duration.ofMillis(500),
                "gaffer-test"));
        // Dev mode (auth off) so that the requests reach the job routes without a key lookup.
        ApiConfig config = new ApiConfig("127.0.0.1", 0, false, true, 1 << 20, ApiConfig.defaultJobTypes(), 3);
        try (ApiServer server = new ApiServer(
                        db,
                        new JobRequests(db.dataSource()),
                        new JobQueries(db.dataSource()),
                        new ApiKeyStore(db.dataSource()),
                        config)
                .start(0)) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            for (String path : new String[] {"/api/v3/jobs/1", "/api/v3/jobs", "/api/v3/stats", "/api/v3/workers"}) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(path).isEqualTo(503);
                assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
                assertThat(json(r).get("detail").asText()).isEqualTo("the database is unavailable; try again shortly");
            }
            HttpResponse<String> create = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/v3/jobs"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"noop\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(create.statusCode()).isEqualTo(503);
            HttpResponse<String> ready = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(json(ready).get("checks").get("database").asText()).isEqualTo("unreachable");
            HttpResponse<String> live = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
        } finally {
            db.close();
        }
    }
}
