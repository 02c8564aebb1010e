package dev.gaffer.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Gaffer's REST API from Java, on {@code java.net.http}:
 *
 * <pre>{@code
 * GafferClient gaffer = GafferClient.builder(URI.create("http://127.0.0.1:4000")).apiKey(key).build();
 * JobInfo job = gaffer.create(JobRequest.of("video", params).withStoryboard(storyboard));
 * gaffer.approve(job.jobId());
 * JobInfo done = gaffer.watch(job.jobId()).join(); // follows the job's event stream to its end
 * }</pre>
 *
 * A refusal is a {@link GafferException} (404 {@link GafferException.NotFound}, 422 {@link
 * GafferException.Invalid} naming the field, 401/403 {@link GafferException.Denied}, 5xx {@link
 * GafferException.Unavailable}). Calls that are safe to repeat (reads, and a create with an
 * idempotency key) are retried with backoff on 503 and on connection errors; approve, cancel and
 * retry are sent once, since a repeat could act twice or answer with an error for the first.
 */
public final class GafferClient {

    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .addModule(new JavaTimeModule())
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    private static final Duration MAX_WATCH_BACKOFF = Duration.ofSeconds(5);

    private final URI base;
    private final String apiKey;
    private final HttpClient http;
    private final Duration timeout;
    private final int attempts;

    private GafferClient(Builder b) {
        String text = b.base.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.apiKey = b.apiKey;
        this.timeout = b.timeout;
        this.attempts = b.attempts;
        this.http = b.http != null
                ? b.http
                : HttpClient.newBuilder().connectTimeout(b.timeout).build();
    }

    /** A client of the API at {@code baseUrl}, e.g. {@code http://127.0.0.1:4000}. */
    public static Builder builder(URI baseUrl) {
        return new Builder(baseUrl);
    }

    /** How to reach the API. */
    public static final class Builder {
        private final URI base;
        private String apiKey;
        private Duration timeout = Duration.ofSeconds(30);
        private int attempts = 4;
        private HttpClient http;

        private Builder(URI base) {
            this.base = Objects.requireNonNull(base, "baseUrl");
            if (base.getScheme() == null || !base.getScheme().startsWith("http")) {
                throw new IllegalArgumentException("the API's URL must be http(s)://host:port, got " + base);
            }
        }

        /** The bearer key ({@code gaffer keys create}); none for a dev server without auth. */
        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** Per request, and for connecting (default 30 s). A watch's stream has no timeout. */
        public Builder timeout(Duration t) {
            if (t == null || t.isNegative() || t.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + t);
            }
            this.timeout = t;
            return this;
        }

        /** How often a repeatable call is tried in all (default 4; 1: never retried). */
        public Builder attempts(int n) {
            if (n < 1 || n > 20) {
                throw new IllegalArgumentException("attempts must be between 1 and 20, got " + n);
            }
            this.attempts = n;
            return this;
        }

        public Builder httpClient(HttpClient client) {
            this.http = client;
            return this;
        }

        public GafferClient build() {
            return new GafferClient(this);
        }
    }

    /** Creates a job (pending until approved); with an idempotency key, a repeat answers with the first job. */
    public JobInfo create(JobRequest request) {
        Objects.requireNonNull(request, "request");
        if (request.approvedBy() != null) {
            throw new IllegalArgumentException("a job is approved at creation only by an insert in your transaction"
                    + " (Jobs.insert); over REST, create it and then approve it");
        }
        NewJob job = request.job();
        ObjectNode body = JSON.createObjectNode();
        body.put("type", job.type());
        body.set("parameters", job.parameters());
        if (job.storyboard() != null) {
            body.set("storyboard", job.storyboard());
        }
        body.put("queue", job.queue());
        body.put("priority", job.priority());
        body.put("max_attempts", job.maxAttempts());
        if (job.runAt() != null) {
            body.put("run_at", job.runAt().toString());
        }
        HttpRequest.Builder r = request("/api/v3/jobs").POST(HttpRequest.BodyPublishers.ofString(write(body)));
        r.header("Content-Type", "application/json");
        if (job.idempotencyKey() != null) {
            r.header("Idempotency-Key", job.idempotencyKey());
        }
        return read(send(r.build(), job.idempotencyKey() != null), JobInfo.class);
    }

    public JobInfo get(long id) {
        return read(send(request("/api/v3/jobs/" + id).GET().build(), true), JobInfo.class);
    }

    /** Newest first; {@code cursor} is the previous page's {@link JobPage#nextCursor()} (null: the first). */
    public JobPage list(JobFilter filter, String cursor, int limit) {
        StringBuilder q = new StringBuilder("/api/v3/jobs?limit=").append(limit);
        JobFilter f = filter == null ? JobFilter.ALL : filter;
        if (f.status() != null) {
            q.append("&status=").append(f.status().dbName());
        }
        param(q, "type", f.type());
        param(q, "queue", f.queue());
        if (f.parentId() != null) {
            q.append("&parent_id=").append(f.parentId());
        }
        param(q, "cursor", cursor);
        return read(send(request(q.toString()).GET().build(), true), JobPage.class);
    }

    /** pending → approved; answers with the status it now has. */
    public JobStatus approve(long id) {
        JsonNode answer = read(send(post("/api/v3/jobs/" + id + "/approve"), false), JsonNode.class);
        return JobStatus.fromDb(answer.path("status").asText());
    }

    /** Cancels the job and every unfinished job below it. */
    public JobInfo cancel(long id) {
        return read(send(post("/api/v3/jobs/" + id + "/cancel"), false), JobInfo.class);
    }

    /** A failed or cancelled job again, with a fresh budget of attempts. */
    public JobInfo retry(long id) {
        return read(send(post("/api/v3/jobs/" + id + "/retry"), false), JobInfo.class);
    }

    public List<JobInfo> subJobs(long id) {
        JsonNode answer =
                read(send(request("/api/v3/jobs/" + id + "/subjobs").GET().build(), true), JsonNode.class);
        List<JobInfo> out = new ArrayList<>();
        for (JsonNode n : answer.path("subjobs")) {
            out.add(JSON.convertValue(n, JobInfo.class));
        }
        return out;
    }

    /** The job's history after event {@code since} (0: from its start), one page. */
    public EventPage events(long id, long since) {
        return read(
                send(
                        request("/api/v3/jobs/" + id + "/events?since=" + since)
                                .GET()
                                .build(),
                        true),
                EventPage.class);
    }

    public List<ArtifactInfo> artifacts(long id) {
        JsonNode answer =
                read(send(request("/api/v3/jobs/" + id + "/artifacts").GET().build(), true), JsonNode.class);
        List<ArtifactInfo> out = new ArrayList<>();
        for (JsonNode n : answer.path("artifacts")) {
            out.add(JSON.convertValue(n, ArtifactInfo.class));
        }
        return out;
    }

    /** Writes artifact {@code name} of the job to {@code target} (replacing it) and returns it. */
    public Path download(long id, String name, Path target) {
        HttpRequest r = request("/api/v3/jobs/" + id + "/artifacts/"
                        + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"))
                .GET()
                .build();
        HttpResponse<InputStream> res = withRetries(r, true, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = res.body()) {
            if (res.statusCode() != 200) {
                throw problem(res.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new GafferException.Unavailable(0, "download failed", e.getMessage(), null);
        }
    }

    /** {@link #watch(long, Consumer)} without a listener. */
    public CompletableFuture<JobInfo> watch(long id) {
        return watch(id, e -> {});
    }

    /**
     * Follows the job's event stream ({@code GET /api/v3/jobs/{id}/stream}) on a thread of its
     * own, hands every event to {@code onEvent}, and completes with the job once it is finished.
     * A dropped connection is resumed with {@code Last-Event-ID}, so no event is missed or sent
     * twice; a refusal (404, 401, 403) completes the future exceptionally. Cancelling the future
     * ends the watch.
     */
    public CompletableFuture<JobInfo> watch(long id, Consumer<JobEventInfo> onEvent) {
        Objects.requireNonNull(onEvent, "onEvent");
        CompletableFuture<JobInfo> done = new CompletableFuture<>();
        Thread.ofVirtual().name("gaffer-watch-" + id).start(() -> follow(id, onEvent, done));
        return done;
    }

    private void follow(long id, Consumer<JobEventInfo> onEvent, CompletableFuture<JobInfo> done) {
        long lastEventId = -1;
        Duration pause = FIRST_BACKOFF;
        JobInfo finished = null;
        while (!done.isDone()) {
            try {
                HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + "/api/v3/jobs/" + id + "/stream"))
                        .header("Accept", "text/event-stream")
                        .GET();
                authorize(r);
                if (lastEventId >= 0) {
                    r.header("Last-Event-ID", String.valueOf(lastEventId));
                }
                HttpResponse<Stream<String>> res = http.send(r.build(), HttpResponse.BodyHandlers.ofLines());
                if (res.statusCode() == 200) {
                    try (Stream<String> lines = res.body()) {
                        lastEventId = readEvents(lines.iterator(), lastEventId, onEvent, done);
                    }
                    pause = FIRST_BACKOFF;
                } else if (res.statusCode() != 204) {
                    String body;
                    try (Stream<String> lines = res.body()) {
                        body = String.join("\n", lines.toList());
                    }
                    GafferException p = problem(res.statusCode(), body);
                    if (!(p instanceof GafferException.Unavailable)) {
                        done.completeExceptionally(p);
                        return;
                    }
                }
                // The server ends a stream after the job's last event (204: nothing more to send).
                // A stream can also end because the server went away while the job finished: so the
                // watch of a finished job reconnects from its last event until the server answers
                // 204, and ends only then, with every event delivered.
                if (finished != null && res.statusCode() == 204) {
                    done.complete(finished);
                    return;
                }
                JobInfo now = get(id);
                if (now.isFinished()) {
                    finished = now;
                    continue;
                }
            } catch (IOException | GafferException.Unavailable e) {
                // Connection lost or server busy: resume after a pause, from the last event.
            } catch (InterruptedException e) {
                done.cancel(false);
                return;
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                return;
            }
            try {
                Thread.sleep(jitter(pause));
            } catch (InterruptedException e) {
                done.cancel(false);
                return;
            }
            pause = min(pause.multipliedBy(2), MAX_WATCH_BACKOFF);
        }
    }

    /**
     * Reads SSE events until the stream ends, the connection drops or the watch is cancelled;
     * returns the last delivered event's id, from which the next connection resumes.
     */
    private static long readEvents(
            Iterator<String> lines, long lastEventId, Consumer<JobEventInfo> onEvent, CompletableFuture<?> done)
            throws JsonProcessingException {
        long id = lastEventId;
        Long pendingId = null;
        StringBuilder data = new StringBuilder();
        while (!done.isDone()) {
            String line;
            try {
                if (!lines.hasNext()) {
                    break;
                }
                line = lines.next();
            } catch (java.io.UncheckedIOException e) {
                // The connection dropped mid-stream (the server stopped): like the stream's end,
                // with the events delivered so far counted.
                break;
            }
            if (line.isEmpty()) {
                if (!data.isEmpty()) {
                    onEvent.accept(JSON.readValue(data.toString(), JobEventInfo.class));
                    if (pendingId != null) {
                        id = pendingId;
                    }
                }
                data.setLength(0);
                pendingId = null;
            } else if (line.startsWith("id:")) {
                pendingId = Long.parseLong(line.substring(3).strip());
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5).stripLeading());
            }
            // Lines starting with ':' are keepalives.
        }
        return id;
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder r =
                HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).header("Accept", "application/json");
        authorize(r);
        return r;
    }

    private HttpRequest post(String path) {
        return request(path).POST(HttpRequest.BodyPublishers.noBody()).build();
    }

    private void authorize(HttpRequest.Builder r) {
        if (apiKey != null) {
            r.header("Authorization", "Bearer " + apiKey);
        }
    }

    /** The answer of a call that succeeded (2xx), or the problem it was refused with. */
    private HttpResponse<String> send(HttpRequest request, boolean repeatable) {
        HttpResponse<String> res = withRetries(request, repeatable, HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() / 100 != 2) {
            throw problem(res.statusCode(), res.body());
        }
        return res;
    }

    private <T> HttpResponse<T> withRetries(HttpRequest request, boolean repeatable, HttpResponse.BodyHandler<T> body) {
        int tries = repeatable ? attempts : 1;
        Duration pause = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            try {
                HttpResponse<T> res = http.send(request, body);
                if (res.statusCode() != 503 || attempt >= tries) {
                    return res;
                }
            } catch (IOException e) {
                if (attempt >= tries) {
                    throw new GafferException.Unavailable(
                            0,
                            "cannot reach the API",
                            request.method() + " " + request.uri() + ": " + e
                                    + (tries > 1 ? " (" + tries + " attempts)" : ""),
                            null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while calling " + request.uri(), e);
            }
            sleep(jitter(pause));
            pause = min(pause.multipliedBy(2), MAX_BACKOFF);
        }
    }

    private static GafferException problem(int status, String body) {
        try {
            JsonNode p = JSON.readTree(body);
            if (p != null && p.isObject()) {
                return GafferException.of(
                        status,
                        p.path("title").asText("HTTP " + status),
                        p.path("detail").asText(null),
                        p.hasNonNull("field") ? p.get("field").asText() : null);
            }
        } catch (JsonProcessingException e) {
            // Not problem+json (a proxy's page): fall through with the text.
        }
        String text = body == null ? "" : body.strip();
        return GafferException.of(status, "HTTP " + status, text.length() > 200 ? text.substring(0, 200) : text, null);
    }

    private static <T> T read(HttpResponse<String> res, Class<T> type) {
        try {
            return JSON.readValue(res.body(), type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(
                    "the API's answer is not " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static String write(JsonNode body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void param(StringBuilder q, String name, String value) {
        if (value != null) {
            q.append('&').append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }

    private static Duration jitter(Duration d) {
        long ms = d.toMillis();
        return Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry", e);
        }
    }
}
