package dev.gaffer.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.auth.ApiKeyRole;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Scenarios 15 to 17 (issue 13, items 6 to 8), against real {@code gaffer api} processes: a key
 * revoked with {@code gaffer keys revoke} stops working on every API process and its open streams
 * end; a crowd of unauthenticated scrapers of /metrics does not slow the API down; and one job can
 * never break the job list for everyone.
 */
class ApiHardeningIT {

    static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<InputStream> openStream(Cluster.Api api, String key) throws Exception {
        return Cluster.HTTP.send(
                HttpRequest.newBuilder(URI.create(api.base() + "/api/v3/events"))
                        .header("Authorization", "Bearer " + key)
                        .header("Accept", "text/event-stream")
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    private static int status(String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return Cluster.HTTP
                .send(b.GET().build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    @Test
    void aRevokedKeyStopsWorkingOnEveryApiProcessAndItsStreamsEnd() throws Exception {
        try (Cluster c = new Cluster("s15-key-revocation")) {
            String key = c.createKey("faults-leaving", ApiKeyRole.READ);
            List<Cluster.Api> apis = List.of(c.startApi(Map.of()), c.startApi(Map.of()));
            List<Thread> readers = new ArrayList<>();
            List<Instant> endedAt = Collections.synchronizedList(new ArrayList<>());
            for (Cluster.Api api : apis) {
                assertThat(status(api.base() + "/api/v3/jobs", key)).isEqualTo(200);
                HttpResponse<InputStream> stream = openStream(api, key);
                assertThat(stream.statusCode()).isEqualTo(200);
                readers.add(Thread.ofVirtual().start(() -> {
                    try (InputStream in = stream.body()) {
                        in.transferTo(OutputStream.nullOutputStream());
                    } catch (Exception ignored) {
                        // ended
                    }
                    endedAt.add(Instant.now());
                }));
            }
            Cluster.sleep(Duration.ofMillis(500));
            assertThat(readers).allMatch(Thread::isAlive);

            // As an operator would: the CLI, as its own process, as the tables' owner.
            Map<String, String> env = Map.of("DATABASE_URL", c.pg.url(c.database, "postgres", null));
            GafferProc revoke = new GafferProc("revoke", c.logDir, env, "keys", "revoke", "faults-leaving").start();
            assertThat(revoke.process().waitFor(60, java.util.concurrent.TimeUnit.SECONDS))
                    .isTrue();
            assertThat(revoke.process().exitValue()).as(revoke.tail(20)).isZero();
            Instant revokedAt = Instant.ofEpochMilli(
                    c.longOf(
                            "SELECT (extract(epoch FROM revoked_at) * 1000)::bigint FROM api_keys WHERE name = 'faults-leaving'"));
            for (Thread r : readers) {
                r.join(Duration.ofSeconds(10));
                assertThat(r.isAlive())
                        .as("a stream of the revoked key still open")
                        .isFalse();
            }
            long slowestMs = endedAt.stream()
                    .mapToLong(t -> Duration.between(revokedAt, t).toMillis())
                    .max()
                    .orElseThrow();
            for (Cluster.Api api : apis) {
                assertThat(status(api.base() + "/api/v3/jobs", key)).isEqualTo(401);
            }
            new Summary("15-key-revocation")
                    .put("api_processes", apis.size())
                    .put("streams", readers.size())
                    .put(
                            "streams_open_after",
                            readers.stream().filter(Thread::isAlive).count())
                    .put("max_ms_revoked_to_stream_end", slowestMs)
                    .put("requests_accepted_after", 0)
                    .write();
        }
    }

    @Test
    void unauthenticatedScrapersOfMetricsDoNotSlowTheApiDown() throws Exception {
        try (Cluster c = new Cluster("s16-metrics-load")) {
            // A big table: what a count(*) per scrape would have to read every time.
            c.exec("""
                    INSERT INTO jobs (type, status, approved_by, approved_at, attempt, progress_percentage, finished_at,
                                      finished_event_id, completed_by)
                    SELECT 'noop', 'completed', 'faults', now(), 1, 100, now(), nextval('job_events_id_seq'), 'faults'
                      FROM generate_series(1, 300000)""");
            c.exec("VACUUM ANALYZE jobs");
            String key = c.createKey("faults-reader", ApiKeyRole.READ);
            Cluster.Api api = c.startApi(Map.of());
            long job = c.longOf("SELECT max(id) FROM jobs");
            String jobUrl = api.base() + "/api/v3/jobs/" + job;
            for (int i = 0; i < 100; i++) {
                status(jobUrl, key); // warm up
            }
            long[] quiet = latencies(jobUrl, key, 300);

            // The floor: the same crowd on the cheapest public route there is.
            Crowd floorCrowd = new Crowd(api.base() + "/health/live");
            long[] floor = latencies(jobUrl, key, 300);
            floorCrowd.stop();

            Crowd scrapers = new Crowd(api.base() + "/metrics");
            long started = System.nanoTime();
            long[] loaded = latencies(jobUrl, key, 300);
            scrapers.stop();
            double seconds = (System.nanoTime() - started) / 1e9 + 1;
            String metrics = fetch(api.base() + "/metrics");
            double countQueries = metricValue(metrics, "gaffer_api_job_count_queries_total");

            new Summary("16-metrics-load")
                    .put("jobs_in_table", c.longOf("SELECT count(*) FROM jobs"))
                    .put("scrapers", Crowd.SIZE)
                    .put("scrapes", scrapers.requests.get())
                    .put("count_queries", (long) countQueries)
                    .put("get_p50_ms_quiet", ms(quiet[0]))
                    .put("get_p99_ms_quiet", ms(quiet[1]))
                    .put("get_p50_ms_health_crowd", ms(floor[0]))
                    .put("get_p99_ms_health_crowd", ms(floor[1]))
                    .put("get_p50_ms_metrics_crowd", ms(loaded[0]))
                    .put("get_p99_ms_metrics_crowd", ms(loaded[1]))
                    .write();
            assertThat(scrapers.statuses).containsOnly(200);
            // At most one count per 5 s, whoever asks (and one at the start).
            assertThat(countQueries).isLessThanOrEqualTo(Math.ceil(seconds / 5) + 2);
            assertThat(scrapers.requests.get()).isGreaterThan(100);
        }
    }

    @Test
    void oneJobCannotBreakTheJobListForEveryone() throws Exception {
        try (Cluster c = new Cluster("s17-deep-json")) {
            String key = c.createKey("faults-submitter", ApiKeyRole.SUBMIT);
            Cluster.Api api = c.startApi(Map.of());
            String deep = "{\"a\":".repeat(999) + "1" + "}".repeat(999);
            HttpResponse<String> refused =
                    api.post("/api/v3/jobs", key, "{\"type\":\"noop\",\"parameters\":" + deep + "}");
            assertThat(refused.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(refused.body()).path("detail").asText()).contains("deeper than 64 levels");
            String deepest = "{\"a\":".repeat(63) + "1" + "}".repeat(63);
            HttpResponse<String> accepted =
                    api.post("/api/v3/jobs", key, "{\"type\":\"noop\",\"parameters\":" + deepest + "}");
            assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(201);
            for (int i = 0; i < 20; i++) {
                assertThat(api.post("/api/v3/jobs", key, "{\"type\":\"noop\"}").statusCode())
                        .isEqualTo(201);
            }
            int listStatus = status(api.base() + "/api/v3/jobs?limit=200", key);
            assertThat(listStatus).isEqualTo(200);
            assertThat(c.longOf("SELECT count(*) FROM jobs")).isEqualTo(21);
            new Summary("17-deep-json")
                    .put("refused_depth", 999)
                    .put("accepted_depth", 64)
                    .put("jobs", 21)
                    .put("list_status", listStatus)
                    .write();
        }
    }

    private static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e6);
    }

    /** Clients without a key calling one URL back to back until stopped (at most 30 s). */
    private static final class Crowd {
        static final int SIZE = 16;
        final AtomicBoolean stopped = new AtomicBoolean();
        final AtomicLong requests = new AtomicLong();
        final ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        final List<Thread> threads = new ArrayList<>();

        Crowd(String url) {
            for (int i = 0; i < SIZE; i++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (!stopped.get() && System.nanoTime() < end) {
                        try {
                            statuses.add(status(url, null));
                            requests.incrementAndGet();
                        } catch (Exception e) {
                            statuses.add(-1);
                        }
                    }
                }));
            }
            Cluster.sleep(Duration.ofSeconds(1));
        }

        void stop() throws InterruptedException {
            stopped.set(true);
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(30));
            }
        }
    }

    /** p50 and p99 of {@code n} sequential authenticated GETs, in nanoseconds. */
    private static long[] latencies(String url, String key, int n) throws Exception {
        long[] took = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            assertThat(status(url, key)).isEqualTo(200);
            took[i] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(took);
        return new long[] {took[n / 2], took[(int) Math.ceil(n * 0.99) - 1]};
    }

    private static String fetch(String url) throws Exception {
        return Cluster.HTTP
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static double metricValue(String exposition, String name) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).strip());
            }
        }
        throw new AssertionError(name + " is not in /metrics");
    }
}
