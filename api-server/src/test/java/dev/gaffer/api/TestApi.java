package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/** A real server on a random port over a fresh database, with one key per role, and an HTTP client. */
final class TestApi implements AutoCloseable {

    final Database db;
    final JobRequests requests;
    final LeaseStore leases;
    final OutcomeStore outcomes;
    final JobQueries queries;
    final ApiKeyStore keys;
    final JobFixtures fixtures;
    final ApiServer server;
    final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    final Map<ApiKeyRole, String> keyOf = new EnumMap<>(ApiKeyRole.class);

    TestApi(String name) {
        this(TestPostgres.freshDatabase(name), ApiConfig.defaults());
    }

    TestApi(Database db, ApiConfig config) {
        this.db = db;
        this.requests = new JobRequests(db.dataSource());
        this.leases = new LeaseStore(db.dataSource());
        this.outcomes = new OutcomeStore(db.dataSource());
        this.queries = new JobQueries(db.dataSource());
        this.keys = new ApiKeyStore(db.dataSource());
        this.fixtures = new JobFixtures(db);
        if (config.auth()) {
            for (ApiKeyRole r : ApiKeyRole.values()) {
                keyOf.put(r, keys.create(r.dbName() + "-key", r).key());
            }
        }
        this.server = new ApiServer(db, requests, queries, keys, config).start(0);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    String key(ApiKeyRole role) {
        return keyOf.get(role);
    }

    HttpResponse<String> get(String path, ApiKeyRole as) {
        return send(request(path, as).GET().build());
    }

    HttpResponse<String> post(String path, ApiKeyRole as, String body) {
        return send(request(path, as)
                .header("Content-Type", "application/json")
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    HttpRequest.Builder request(String path, ApiKeyRole as) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20));
        if (as != null && keyOf.containsKey(as)) {
            b.header("Authorization", "Bearer " + keyOf.get(as));
        }
        return b;
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode parse(String text) {
        try {
            return JsonSupport.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + text, e);
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return JsonSupport.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + r.body(), e);
        }
    }

    /** Creates a pending job through the API and returns its id. */
    long createJob(String type) {
        // A video job must come with a storyboard it can render; other types take any parameters.
        String storyboard = type.equals("video") ? ",\"storyboard\":{\"scenes\":[{\"duration\":1}]}" : "";
        var r = post(
                "/api/v3/jobs",
                ApiKeyRole.SUBMIT,
                "{\"type\":\"" + type + "\",\"parameters\":{\"n\":1}" + storyboard + "}");
        if (r.statusCode() != 201) {
            throw new IllegalStateException("create failed: " + r.statusCode() + " " + r.body());
        }
        return json(r).get("job_id").asLong();
    }

    @Override
    public void close() {
        server.stop();
        db.close();
    }
}
