package dev.gaffer.cli;

import static dev.gaffer.cli.HttpCalls.download;
import static dev.gaffer.cli.HttpCalls.get;
import static dev.gaffer.cli.HttpCalls.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.cli.HttpCalls.Reply;
import dev.gaffer.db.Database;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.testing.TestPostgres;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.PredictionConfig;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prediction-API renderer and the callbacks it waits for (issue 19), end to end: a worker makes
 * a video's scenes with a service that speaks Replicate's prediction protocol, here a small HTTP
 * server in the test that answers, calls back (late, twice, with failures) or only answers polls,
 * and serves a generated image. The scene jobs wait without a lease; the API takes each callback
 * once; nothing reaches the internet.
 */
class PredictionRendererTest {

    static final String TOKEN = "test-token";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static Database db;
    static ApiServer api;
    static String base;
    static String producer;
    static String editor;
    static Worker worker;
    static Ffmpeg ffmpeg;
    static FakeService service;

    /**
     * The service: what each prediction does is chosen by its prompt ({@code mode:webhook},
     * {@code mode:poll}, {@code mode:fail}, {@code mode:never}, {@code mode:429}).
     */
    static final class FakeService {
        final HttpServer server;
        final String url;
        final Map<String, ObjectNode> predictions = new ConcurrentHashMap<>();
        final Map<String, Long> created = new ConcurrentHashMap<>();
        final List<Integer> webhookAnswers = new CopyOnWriteArrayList<>();
        final List<String> webhooks = new CopyOnWriteArrayList<>();
        final List<Long> createAttempts = new CopyOnWriteArrayList<>();
        final List<String> unauthorized = new CopyOnWriteArrayList<>();
        final AtomicInteger ids = new AtomicInteger();
        final AtomicInteger limited = new AtomicInteger();
        final byte[] png;

        FakeService() throws Exception {
            BufferedImage img = new BufferedImage(64, 36, BufferedImage.TYPE_INT_RGB);
            var g = img.createGraphics();
            g.setColor(new Color(200, 60, 30));
            g.fillRect(0, 0, 64, 36);
            g.dispose();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            png = out.toByteArray();
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            url = "http://127.0.0.1:" + server.getAddress().getPort();
            server.createContext("/", this::handle);
            server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            server.start();
        }

        void handle(HttpExchange x) throws java.io.IOException {
            String path = x.getRequestURI().getPath();
            if (path.startsWith("/files/")) {
                x.getResponseHeaders().add("Content-Type", "image/png");
                x.sendResponseHeaders(200, png.length);
                x.getResponseBody().write(png);
                x.close();
                return;
            }
            if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
                unauthorized.add(path);
                reply(x, 401, "{\"detail\":\"bad token\"}");
                return;
            }
            if (path.equals("/v1/predictions") && x.getRequestMethod().equals("POST")) {
                JsonNode body = JSON.readTree(x.getRequestBody());
                String mode = body.path("input").path("prompt").asText().replace("mode:", "");
                createAttempts.add(System.nanoTime());
                if (mode.equals("429") && limited.getAndIncrement() == 0) {
                    x.getResponseHeaders().add("Retry-After", "1");
                    reply(x, 429, "{\"detail\":\"slow down\"}");
                    return;
                }
                String id = "p" + ids.incrementAndGet();
                ObjectNode p = JSON.createObjectNode();
                p.put("id", id);
                p.put("version", body.path("version").asText());
                p.set("input", body.path("input"));
                p.put("status", "starting");
                p.put("mode", mode);
                predictions.put(id, p);
                created.put(id, System.nanoTime());
                String webhook = body.path("webhook").asText(null);
                if (webhook != null) {
                    webhooks.add(webhook);
                }
                reply(x, 201, p.toString());
                if (webhook != null && !mode.equals("poll") && !mode.equals("never")) {
                    Thread.ofVirtual().start(() -> deliver(id, webhook, mode));
                }
                return;
            }
            if (path.startsWith("/v1/predictions/") && path.endsWith("/cancel")) {
                String id = path.split("/")[3];
                ObjectNode p = predictions.get(id);
                if (p != null) {
                    p.put("status", "canceled");
                }
                reply(x, 200, p == null ? "{}" : p.toString());
                return;
            }
            if (path.startsWith("/v1/predictions/") && x.getRequestMethod().equals("GET")) {
                String id = path.substring("/v1/predictions/".length());
                ObjectNode p = predictions.get(id);
                if (p == null) {
                    reply(x, 404, "{\"detail\":\"no such prediction\"}");
                    return;
                }
                if (p.path("mode").asText().equals("poll")
                        && System.nanoTime() - created.get(id)
                                > Duration.ofMillis(500).toNanos()) {
                    succeed(p);
                } else if (!p.path("status").asText().equals("succeeded")
                        && !p.path("status").asText().equals("failed")) {
                    p.put("status", "processing");
                }
                reply(x, 200, p.toString());
                return;
            }
            reply(x, 404, "{}");
        }

        void succeed(ObjectNode p) {
            p.put("status", "succeeded");
            p.put("output", url + "/files/" + p.path("id").asText() + ".png");
        }

        /** The completion webhook, a moment later, twice (services retry deliveries). */
        void deliver(String id, String webhook, String mode) {
            try {
                Thread.sleep(300);
                ObjectNode p = predictions.get(id);
                if (mode.equals("fail")) {
                    p.put("status", "failed");
                    p.put("error", "out of memory");
                } else {
                    succeed(p);
                }
                for (int i = 0; i < 2; i++) {
                    HttpResponse<String> r = HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(URI.create(webhook))
                                            .header("Content-Type", "application/json")
                                            .POST(HttpRequest.BodyPublishers.ofString(p.toString()))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                    webhookAnswers.add(r.statusCode());
                }
            } catch (Exception e) {
                webhookAnswers.add(-1);
            }
        }

        static void reply(HttpExchange x, int status, String body) throws java.io.IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(status, bytes.length);
            x.getResponseBody().write(bytes);
            x.close();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        ffmpeg = Ffmpeg.locate(Map.of());
        service = new FakeService();
        db = TestPostgres.freshDatabase("prediction_renderer", 30);
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        producer = keys.create("producer", ApiKeyRole.SUBMIT).key();
        editor = keys.create("editor", ApiKeyRole.APPROVE).key();
        api = new ApiServer(
                        db,
                        new JobRequests(db.dataSource()),
                        new JobQueries(db.dataSource()),
                        keys,
                        ApiConfig.defaults())
                .start(0);
        base = "http://127.0.0.1:" + api.port();
        PredictionConfig config = PredictionConfig.fromEnvironment(Map.of(
                        "GAFFER_PREDICTION_URL", service.url,
                        "GAFFER_PREDICTION_TOKEN", TOKEN,
                        "GAFFER_PREDICTION_MODEL", "test/model:1",
                        "GAFFER_PREDICTION_RATE", "20/s",
                        "GAFFER_PUBLIC_URL", base,
                        "GAFFER_PREDICTION_TIMEOUT", "3s",
                        "GAFFER_PREDICTION_POLL", "20s"))
                .orElseThrow();
        HandlerRegistry registry = VideoHandlers.register(
                HandlerRegistry.discover(),
                new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                ffmpeg,
                dir.resolve("w"),
                Optional.of(config));
        worker = new Worker(
                        WorkerConfig.defaults()
                                .withName("predictions")
                                .withConcurrency(4)
                                .withRetry(Duration.ofMillis(100), Duration.ofMillis(200)),
                        db,
                        registry)
                .start();
    }

    @AfterAll
    static void stop() {
        worker.shutdown(Duration.ofSeconds(5));
        api.stop();
        db.close();
        service.server.stop(0);
    }

    /** A video of one scene per mode, made by the prediction renderer, approved. */
    private static long video(String... modes) throws Exception {
        StringBuilder scenes = new StringBuilder();
        for (int i = 0; i < modes.length; i++) {
            scenes.append(i == 0 ? "" : ",")
                    .append("{\"duration\": 0.4, \"caption\": \"Scene ")
                    .append(i)
                    .append("\", \"prompt\": \"mode:")
                    .append(modes[i])
                    .append("\"}");
        }
        Reply created = send(
                base,
                producer,
                "POST",
                "/api/v3/jobs",
                "{\"type\": \"video\", \"parameters\": {\"width\": 160, \"height\": 90, \"fps\": 25, \"renderer\":"
                        + " \"prediction\"}, \"storyboard\": {\"scenes\": [" + scenes + "]}}",
                null);
        assertThat(created.status()).as("%s", created.body()).isEqualTo(201);
        long id = created.body().path("job_id").asLong();
        assertThat(send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{}", "\"1\"")
                        .status())
                .isEqualTo(200);
        return id;
    }

    private static JsonNode await(long id, Predicate<JsonNode> done) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode job = null;
        while (System.nanoTime() < end) {
            job = get(base, editor, "/api/v3/jobs/" + id);
            if (done.test(job)) {
                return job;
            }
            Thread.sleep(100);
        }
        fail("job " + id + " did not get there: " + job);
        return job;
    }

    private static List<String> kinds(long id) throws Exception {
        List<String> kinds = new ArrayList<>();
        get(base, editor, "/api/v3/jobs/" + id + "/events?limit=500")
                .path("events")
                .forEach(e -> kinds.add(e.path("kind").asText()));
        return kinds;
    }

    @Test
    void scenesMadeByThePredictionServiceWaitForItsWebhookWithoutALeaseAndTakeItOnce() throws Exception {
        int before = service.webhookAnswers.size();
        long id = video("webhook", "webhook");
        JsonNode done = await(id, j -> j.path("status").asText().equals("completed"));
        assertThat(done.path("result").path("scenes_rendered").asInt()).isEqualTo(2);
        Path video = dir.resolve("predicted.mp4");
        download(base, editor, "/api/v3/jobs/" + id + "/artifacts/video.mp4", video);
        assertThat(ffmpeg.probe(video).durationSeconds()).isBetween(0.7, 0.9);

        JsonNode subjobs = get(base, editor, "/api/v3/jobs/" + id + "/subjobs").path("subjobs");
        assertThat(subjobs).hasSize(2);
        for (JsonNode s : subjobs) {
            assertThat(s.path("type").asText()).isEqualTo("scene_prediction");
            assertThat(s.path("result").path("prediction_id").asText()).startsWith("p");
            // Waited without its lease, and the callback woke it.
            long sceneId = s.path("job_id").asLong();
            assertThat(kinds(sceneId)).containsSubsequence("awaiting_callback", "callback_received", "completed");
            JsonNode waited = null;
            for (JsonNode e :
                    get(base, editor, "/api/v3/jobs/" + sceneId + "/events").path("events")) {
                if (e.path("kind").asText().equals("awaiting_callback")) {
                    waited = e;
                }
            }
            assertThat(waited).isNotNull();
            assertThat(waited.path("status").asText())
                    .as("no lease while waiting")
                    .isEqualTo("approved");
        }
        assertThat(service.webhooks).allSatisfy(w -> assertThat(w).startsWith(base + "/api/v3/callbacks/"));
        assertThat(worker.stats().awaitingCallback())
                .as("waits counted as waits")
                .isGreaterThanOrEqualTo(2);
        // Each webhook was delivered twice: taken once, the duplicate refused.
        List<Integer> answers = new ArrayList<>(service.webhookAnswers.subList(before, before + 4));
        Collections.sort(answers);
        assertThat(answers).containsExactly(202, 202, 410, 410);
        assertThat(service.unauthorized).isEmpty();
    }

    @Test
    void withoutACallbackTheSceneLooksAgainAtItsDeadlineAndAFailedPredictionFailsTheVideo() throws Exception {
        long polled = video("poll");
        JsonNode done = await(polled, j -> j.path("status").asText().equals("completed"));
        long scene = get(base, editor, "/api/v3/jobs/" + polled + "/subjobs")
                .path("subjobs")
                .get(0)
                .path("job_id")
                .asLong();
        assertThat(kinds(scene)).contains("awaiting_callback").doesNotContain("callback_received");
        assertThat(done.path("result").path("scenes").asInt()).isEqualTo(1);

        long failing = video("fail");
        JsonNode failed = await(failing, j -> j.path("status").asText().equals("failed"));
        assertThat(failed.path("last_error").asText()).contains("out of memory");
    }

    @Test
    void aPredictionThatNeverEndsTimesOutAndTheServicesRateLimitIsWaitedFor() throws Exception {
        long never = video("never");
        JsonNode failed = await(never, j -> j.path("status").asText().equals("failed"));
        long scene = get(base, editor, "/api/v3/jobs/" + never + "/subjobs")
                .path("subjobs")
                .get(0)
                .path("job_id")
                .asLong();
        JsonNode sceneJob = get(base, editor, "/api/v3/jobs/" + scene);
        assertThat(sceneJob.path("last_error").asText()).contains("no callback within 3000 ms");
        assertThat(sceneJob.path("attempt").asInt()).isEqualTo(3);
        assertThat(failed.path("last_error").asText()).contains("no callback within");

        int from = service.createAttempts.size();
        long limited = video("429");
        await(limited, j -> j.path("status").asText().equals("completed"));
        List<Long> attempts = service.createAttempts.subList(from, service.createAttempts.size());
        assertThat(attempts).hasSize(2);
        assertThat(Duration.ofNanos(attempts.get(1) - attempts.get(0)))
                .as("the second try waited the Retry-After")
                .isGreaterThanOrEqualTo(Duration.ofMillis(950));
    }

    @Test
    void aVideoCancelledWhileItsScenesWaitCancelsTheirPredictions() throws Exception {
        int before = service.ids.get();
        long id = video("never");
        // The scene has created its prediction and waits for it.
        long scene = -1;
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end && scene < 0) {
            for (JsonNode s :
                    get(base, editor, "/api/v3/jobs/" + id + "/subjobs").path("subjobs")) {
                if (s.path("current_stage").asText().startsWith("prediction p")
                        && s.path("status").asText().equals("approved")) {
                    scene = s.path("job_id").asLong();
                }
            }
            Thread.sleep(50);
        }
        assertThat(scene).as("a scene waiting for its prediction").isPositive();
        String prediction = get(base, editor, "/api/v3/jobs/" + scene)
                .path("current_stage")
                .asText()
                .substring("prediction ".length());
        assertThat(service.ids.get()).isGreaterThan(before);
        assertThat(send(base, editor, "POST", "/api/v3/jobs/" + id + "/cancel", null, null)
                        .status())
                .isEqualTo(200);
        end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end
                && !service.predictions.get(prediction).path("status").asText().equals("canceled")) {
            Thread.sleep(50);
        }
        assertThat(service.predictions.get(prediction).path("status").asText()).isEqualTo("canceled");
    }

    @Test
    void aCallbackUrlGafferDidNotSignIsRefusedAndChangesNothing() throws Exception {
        Reply garbage = send(base, null, "POST", "/api/v3/callbacks/nonsense", "{}", null);
        assertThat(garbage.status()).isEqualTo(401);
        Reply forged =
                send(base, null, "POST", "/api/v3/callbacks/1.00000000000000000000000000000000.AAAA", "{}", null);
        assertThat(forged.status()).isEqualTo(401);
        if (!service.webhooks.isEmpty()) {
            String used = service.webhooks.getFirst();
            Reply tampered = send(
                    base,
                    null,
                    "POST",
                    URI.create(used).getPath().replaceFirst("callbacks/(\\d+)\\.", "callbacks/9$1."),
                    "{}",
                    null);
            assertThat(tampered.status()).isEqualTo(401);
        }
    }
}
