package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.testing.TestPostgres;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference pipeline end to end, as a client sees it: a video job with a three-scene
 * storyboard is created and approved over HTTP, rendered by two workers (one FFmpeg process per
 * scene, in parallel), followed over server-sent events to completion, downloaded, and checked
 * with ffprobe.
 */
class VideoPipelineTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aVideoJobIsRenderedSceneBySceneStitchedAndDownloadable() throws Exception {
        Ffmpeg ffmpeg = Ffmpeg.locate(Map.of());
        try (Database db = TestPostgres.freshDatabase("video_pipeline", 40)) {
            String key = new ApiKeyStore(db.dataSource())
                    .create("producer", ApiKeyRole.APPROVE)
                    .key();
            ApiServer api = new ApiServer(
                            db,
                            new JobRequests(db.dataSource()),
                            new JobQueries(db.dataSource()),
                            new ApiKeyStore(db.dataSource()),
                            ApiConfig.defaults())
                    .start(0);
            List<Worker> workers = new ArrayList<>();
            try {
                for (int i = 1; i <= 2; i++) {
                    HandlerRegistry registry = VideoHandlers.register(
                            HandlerRegistry.discover(),
                            new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                            ffmpeg,
                            dir.resolve("w" + i));
                    workers.add(new Worker(
                                    WorkerConfig.defaults()
                                            .withName("video-" + i)
                                            .withConcurrency(4),
                                    db,
                                    registry)
                            .start());
                }
                Client client = new Client("http://127.0.0.1:" + api.port(), key);

                JsonNode created = client.post("/api/v3/jobs", """
                        {"type": "video",
                         "parameters": {"width": 320, "height": 180, "fps": 25},
                         "storyboard": {"scenes": [
                           {"duration": 1.0, "background": "navy", "caption": "Opening"},
                           {"duration": 0.8, "background": "testsrc", "caption": "The pattern"},
                           {"duration": 1.2, "background": "#2e8b57", "caption": "Closing: 100% done"}]}}""");
                long id = created.get("job_id").asLong();
                assertThat(created.get("status").asText()).isEqualTo("pending");

                // Follow the stream from the start, then approve: every event must arrive, in order.
                CompletableFuture<List<JsonNode>> events =
                        CompletableFuture.supplyAsync(() -> client.streamUntilFinished(id));
                JsonNode approved = client.post("/api/v3/jobs/" + id + "/approve", null);
                assertThat(approved.get("message").asText()).isEqualTo("Job approved successfully");

                List<JsonNode> seen = events.get(120, TimeUnit.SECONDS);
                List<String> kinds =
                        seen.stream().map(e -> e.path("kind").asText()).toList();
                assertThat(kinds).containsSubsequence("approved", "waiting", "resumed", "completed");
                // The two attempts (fan-out, then stitch) each say when they started.
                assertThat(seen)
                        .filteredOn(e -> List.of("waiting", "completed")
                                .contains(e.path("kind").asText()))
                        .allSatisfy(e -> assertThat(e.path("attempt_started_at").asText())
                                .isNotBlank());
                List<Long> ids = seen.stream().map(e -> e.path("id").asLong()).toList();
                assertThat(ids).isSorted().doesNotHaveDuplicates();
                assertThat(seen)
                        .anySatisfy(e -> assertThat(e.path("stage").asText()).matches("rendering [12]/3"));

                JsonNode job = client.get("/api/v3/jobs/" + id);
                assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("completed");
                JsonNode result = job.get("result");
                assertThat(result.get("scenes").asInt()).isEqualTo(3);

                JsonNode subjobs = client.get("/api/v3/jobs/" + id + "/subjobs");
                Set<String> renderedBy = new HashSet<>();
                assertThat(subjobs.get("subjobs")).hasSize(3);
                for (JsonNode s : subjobs.get("subjobs")) {
                    assertThat(s.get("status").asText()).isEqualTo("completed");
                    assertThat(s.get("type").asText()).isEqualTo("scene");
                }
                try (var c = db.connection();
                        var st = c.createStatement();
                        var rs = st.executeQuery("SELECT DISTINCT worker_id FROM job_history WHERE kind = 'completed'"
                                + " AND job_id IN (SELECT id FROM jobs WHERE parent_id = " + id + ")")) {
                    while (rs.next()) {
                        renderedBy.add(rs.getString(1));
                    }
                }
                assertThat(renderedBy).as("scenes rendered by").isNotEmpty();

                Path video = dir.resolve("downloaded.mp4");
                HttpResponse<InputStream> download =
                        client.download(result.get("download_url").asText());
                assertThat(download.statusCode()).isEqualTo(200);
                assertThat(download.headers().firstValue("content-type")).hasValue("video/mp4");
                try (InputStream in = download.body()) {
                    Files.copy(in, video);
                }
                assertThat(Files.size(video)).isEqualTo(result.get("size_bytes").asLong());
                assertThat(ArtifactStore.sha256(video))
                        .isEqualTo(result.get("sha256").asText());

                Ffmpeg.Probe probe = ffmpeg.probe(video);
                assertThat(probe.width()).isEqualTo(320);
                assertThat(probe.height()).isEqualTo(180);
                assertThat(probe.codec()).isEqualTo("h264");
                // The sum of the scenes, within one frame.
                assertThat(probe.durationSeconds()).isCloseTo(3.0, within(1.0 / 25 + 0.001));
            } finally {
                for (Worker w : workers) {
                    w.shutdown(Duration.ofSeconds(5));
                }
                api.stop();
            }
        }
    }

    /** A minimal HTTP client for the test, with the bearer key. */
    record Client(String base, String key) {
        private static final HttpClient HTTP = HttpClient.newHttpClient();

        JsonNode get(String path) throws Exception {
            return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
        }

        JsonNode post(String path, String body) throws Exception {
            return send(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Content-Type", "application/json")
                    .POST(
                            body == null
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofString(body)));
        }

        HttpResponse<InputStream> download(String path) throws Exception {
            return HTTP.send(
                    HttpRequest.newBuilder(URI.create(base + path))
                            .header("Authorization", "Bearer " + key)
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        }

        private JsonNode send(HttpRequest.Builder b) throws Exception {
            HttpResponse<String> r = HTTP.send(
                    b.header("Authorization", "Bearer " + key)
                            .timeout(Duration.ofSeconds(30))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() >= 300) {
                throw new AssertionError(r.statusCode() + " " + r.body());
            }
            return JSON.readTree(r.body());
        }

        /** Reads the job's event stream from its first event until the job finishes (bounded). */
        List<JsonNode> streamUntilFinished(long id) {
            List<JsonNode> events = new ArrayList<>();
            try {
                HttpResponse<InputStream> r = HTTP.send(
                        HttpRequest.newBuilder(URI.create(base + "/api/v3/jobs/" + id + "/stream?since=0"))
                                .header("Authorization", "Bearer " + key)
                                .header("Accept", "text/event-stream")
                                .timeout(Duration.ofSeconds(120))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("data:")) {
                            JsonNode e = JSON.readTree(line.substring(5).strip());
                            events.add(e);
                            String status = e.path("status").asText();
                            if (e.path("job_id").asLong() == id
                                    && (status.equals("completed")
                                            || status.equals("failed")
                                            || status.equals("cancelled"))) {
                                return events;
                            }
                        }
                    }
                }
                return events;
            } catch (Exception e) {
                throw new IllegalStateException("stream of job " + id + " broke after " + events.size() + " events", e);
            }
        }
    }
}
