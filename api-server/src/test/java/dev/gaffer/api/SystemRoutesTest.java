package dev.gaffer.api;

import static dev.gaffer.api.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.testing.TestPostgres;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SystemRoutesTest {

    static TestApi api;

    @BeforeAll
    static void start() {
        api = new TestApi("api_system");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void statsCountJobsPerStatusAndQueueAndThroughputPerMinute() {
        api.createJob("noop");
        api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, "{\"type\":\"noop\",\"queue\":\"stats\"}");
        Job done = api.fixtures.processing("noop", "w/stats");
        api.outcomes.complete(done.lease(), JobFixtures.json("{}"));

        var r = api.get("/api/v3/stats?minutes=5", ApiKeyRole.READ);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode s = json(r);
        long sum = 0;
        for (JsonNode n : s.get("by_status")) {
            sum += n.asLong();
        }
        assertThat(s.get("total").asLong()).isEqualTo(sum).isEqualTo(api.fixtures.count("SELECT count(*) FROM jobs"));
        assertThat(s.at("/by_status/pending").asLong()).isGreaterThanOrEqualTo(2);
        assertThat(s.at("/by_status/completed").asLong()).isEqualTo(1);
        assertThat(s.at("/by_status/failed").asLong()).isZero();
        assertThat(s.at("/by_queue/stats/pending").asLong()).isEqualTo(1);
        assertThat(s.at("/by_queue/default/completed").asLong()).isEqualTo(1);
        assertThat(s.get("window_minutes").asInt()).isEqualTo(5);
        assertThat(s.get("throughput")).hasSize(5);
        assertThat(s.get("throughput").get(4).get("completed").asLong()).isEqualTo(1);
        assertThat(api.get("/api/v3/stats?minutes=0", ApiKeyRole.READ).statusCode())
                .isEqualTo(422);
    }

    @Test
    void workersListsTheWorkersTable() {
        api.fixtures.exec("""
                INSERT INTO workers (id, name, host, pid, queues, concurrency, running)
                VALUES ('w1/abc', 'w1', 'host-a', 42, ARRAY['default','render'], 4, 1)""");
        JsonNode w = json(api.get("/api/v3/workers", ApiKeyRole.READ)).get("workers");
        assertThat(w).hasSize(1);
        assertThat(w.get(0).get("id").asText()).isEqualTo("w1/abc");
        assertThat(w.get(0).get("queues").toString()).isEqualTo("[\"default\",\"render\"]");
        assertThat(w.get(0).get("concurrency").asInt()).isEqualTo(4);
        assertThat(w.get(0).get("last_seen_at").asText()).endsWith("Z");
    }

    @Test
    void healthAndMetrics() {
        var live = api.get("/health/live", null);
        assertThat(live.statusCode()).isEqualTo(200);
        var ready = json(api.get("/health/ready", null));
        assertThat(ready.get("status").asText()).isEqualTo("ready");
        assertThat(ready.at("/checks/migrations").asText()).isEqualTo("current");

        api.createJob("noop");
        api.get("/api/v3/jobs?limit=1", ApiKeyRole.READ);
        var metrics = api.get("/metrics", null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
        assertThat(metrics.body())
                .contains("http_server_requests_seconds_count{method=\"GET\"")
                .contains("uri=\"/api/v3/jobs\"")
                .contains("jvm_memory_used_bytes")
                .contains("hikaricp_connections")
                .contains("gaffer_api_job_actions_total{action=\"created\"}")
                .contains("gaffer_jobs{status=\"pending\"}");
    }

    @Test
    void manyScrapesOfMetricsCountTheJobsTableOnce() throws Exception {
        try (TestApi fresh = new TestApi("metrics_cache")) {
            fresh.createJob("noop");
            var pool = java.util.concurrent.Executors.newFixedThreadPool(16);
            try {
                List<java.util.concurrent.Future<Integer>> scrapes = new java.util.ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    scrapes.add(pool.submit(() -> fresh.get("/metrics", null).statusCode()));
                }
                for (var f : scrapes) {
                    assertThat(f.get()).isEqualTo(200);
                }
            } finally {
                pool.shutdown();
            }
            String body = fresh.get("/metrics", null).body();
            // Within JOB_COUNTS_MAX_AGE of the first scrape, 65 scrapes cost one count.
            assertThat(body).contains("gaffer_api_job_count_queries_total 1.0");
            assertThat(body).contains("gaffer_jobs{status=\"pending\"} 1.0");
        }
    }

    @Test
    void metricsCanNeedAKeyOrLiveOnAnAddressOfTheirOwn() throws Exception {
        try (TestApi keyed = new TestApi(
                TestPostgres.freshDatabase("metrics_keyed"),
                ApiConfig.defaults().withMetrics(true, null, null))) {
            assertThat(keyed.get("/metrics", null).statusCode()).isEqualTo(401);
            assertThat(keyed.get("/metrics", ApiKeyRole.READ).statusCode()).isEqualTo(200);
        }
        try (TestApi apart = new TestApi(
                TestPostgres.freshDatabase("metrics_apart"),
                ApiConfig.defaults().withMetrics(false, "127.0.0.1", 0))) {
            assertThat(apart.get("/metrics", null).statusCode()).isEqualTo(404);
            int port = apart.server.metricsPort();
            assertThat(port).isPositive().isNotEqualTo(apart.server.port());
            var r = apart.http.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("gaffer_jobs{status=\"pending\"}");
        }
    }

    @Test
    void devModeWithoutAuthRecordsActionsAsDev() {
        ApiConfig dev = new ApiConfig(
                "127.0.0.1", 0, false, true, ApiConfig.DEFAULT_MAX_BODY_BYTES, ApiConfig.defaultJobTypes(), 3);
        try (TestApi open = new TestApi(TestPostgres.freshDatabase("api_dev"), dev.requireSafe())) {
            var created = open.post("/api/v3/jobs", null, "{\"type\":\"noop\"}");
            assertThat(created.statusCode()).isEqualTo(201);
            long id = json(created).get("job_id").asLong();
            assertThat(open.post("/api/v3/jobs/" + id + "/approve", null, null).statusCode())
                    .isEqualTo(200);
            JsonNode job = json(open.get("/api/v3/jobs/" + id, null));
            assertThat(job.get("created_by").asText()).isEqualTo("dev");
            assertThat(job.get("approved_by").asText()).isEqualTo("dev");
            assertThat(json(open.get("/api/v3/jobs/" + id + "/events", null)).get("events"))
                    .extracting(e -> e.get("actor").asText())
                    .isEqualTo(List.of("dev", "dev"));
        }
    }
}
