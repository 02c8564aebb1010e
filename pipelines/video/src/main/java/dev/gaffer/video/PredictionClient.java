package dev.gaffer.video;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A client of Replicate's HTTP prediction protocol: create a prediction of a model version with an
 * input (and a webhook for its completion), read it, cancel it, download its output. Every request
 * waits its turn under the configured rate (one bucket per worker process), and a 429 waits the
 * service's Retry-After (at most a minute, five times) before it tries again.
 */
public final class PredictionClient {

    /** The service answered with something other than what the protocol says. */
    public static final class PredictionException extends IOException {
        public PredictionException(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RATE_LIMIT_TRIES = 5;
    private static final long MAX_OUTPUT_BYTES = 512L * 1024 * 1024;

    private final PredictionConfig config;
    private final HttpClient http;
    private final Object bucket = new Object();
    private long nextSlotNanos;

    public PredictionClient(PredictionConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    public PredictionConfig config() {
        return config;
    }

    /** {@code POST /v1/predictions}: the prediction as created (its id, status, urls). */
    public JsonNode create(JsonNode input, String webhook) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.put("version", config.model());
        body.set("input", input);
        if (webhook != null) {
            body.put("webhook", webhook);
            // Only the end: a "start" or "output" event would use the single-use URL up early.
            body.putArray("webhook_events_filter").add("completed");
        }
        return send("POST", "/v1/predictions", body, 201);
    }

    /** {@code GET /v1/predictions/{id}}. */
    public JsonNode get(String id) throws IOException, InterruptedException {
        return send("GET", "/v1/predictions/" + id, null, 200);
    }

    /** {@code POST /v1/predictions/{id}/cancel}; best effort, as the job is going away. */
    public void cancel(String id) {
        try {
            send("POST", "/v1/predictions/" + id + "/cancel", null, 200);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            org.slf4j.LoggerFactory.getLogger(PredictionClient.class)
                    .warn("could not cancel prediction {}: {}", id, e.toString());
        }
    }

    /** Downloads an output URL to {@code to} (at most 512 MiB); its content type. */
    public String download(String url, Path to) throws IOException, InterruptedException {
        URI uri = URI.create(url);
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new PredictionException("the prediction's output is not an http(s) URL: " + url);
        }
        take();
        HttpResponse<InputStream> r = http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw new PredictionException("downloading " + url + " answered " + r.statusCode());
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
        if (Files.size(to) > MAX_OUTPUT_BYTES) {
            throw new PredictionException("the prediction's output is over " + MAX_OUTPUT_BYTES + " bytes");
        }
        return r.headers().firstValue("Content-Type").orElse("application/octet-stream");
    }

    private JsonNode send(String method, String path, JsonNode body, int expected)
            throws IOException, InterruptedException {
        for (int tries = 1; ; tries++) {
            take();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(config.baseUrl() + path))
                    .timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + config.token())
                    .header("Accept", "application/json");
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 429 && tries < RATE_LIMIT_TRIES) {
                long seconds = r.headers()
                        .firstValue("Retry-After")
                        .map(PredictionClient::seconds)
                        .orElse(1L);
                Thread.sleep(Duration.ofSeconds(Math.min(Math.max(seconds, 1), 60)));
                continue;
            }
            if (r.statusCode() != expected && !(expected == 201 && r.statusCode() == 200)) {
                String text = r.body() == null ? "" : r.body();
                throw new PredictionException(method + " " + path + " answered " + r.statusCode() + ": "
                        + text.substring(0, Math.min(300, text.length())));
            }
            try {
                return JSON.readTree(r.body());
            } catch (IOException e) {
                throw new PredictionException(method + " " + path + " answered no JSON: " + e.getMessage());
            }
        }
    }

    private static long seconds(String retryAfter) {
        try {
            return Long.parseLong(retryAfter.strip());
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Waits for the next request slot of the configured rate. */
    private void take() throws InterruptedException {
        long interval = (long) (1_000_000_000L / config.requestsPerSecond());
        long wait;
        synchronized (bucket) {
            long now = System.nanoTime();
            long slot = Math.max(now, nextSlotNanos);
            nextSlotNanos = slot + interval;
            wait = slot - now;
        }
        if (wait > 0) {
            Thread.sleep(Duration.ofNanos(wait));
        }
    }
}
