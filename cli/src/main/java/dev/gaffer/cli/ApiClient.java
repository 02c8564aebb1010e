package dev.gaffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;

/** A small client for Gaffer's REST API, for people at a terminal. */
final class ApiClient {

    /** The API answered with an error; the message is the server's own detail. */
    static final class ApiException extends RuntimeException {
        final int status;

        ApiException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String apiKey;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(String baseUrl, String apiKey) {
        String url = baseUrl == null || baseUrl.isBlank() ? "http://127.0.0.1:4000" : baseUrl.strip();
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException("GAFFER_URL must start with http:// or https://, got '" + url + "'");
        }
        this.base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
    }

    JsonNode get(String path) {
        return send(request(path).GET().build());
    }

    JsonNode post(String path, JsonNode body, String idempotencyKey) {
        return post(path, body, idempotencyKey, null);
    }

    /** With {@code If-Match} (a storyboard revision) when not null. */
    JsonNode post(String path, JsonNode body, String idempotencyKey, Integer ifMatch) {
        HttpRequest.Builder b = request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body.toString()));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        if (ifMatch != null) {
            b.header("If-Match", "\"" + ifMatch + "\"");
        }
        return send(b.build());
    }

    /** PUT of a JSON document, with {@code If-Match} (a storyboard revision) when not null. */
    JsonNode put(String path, JsonNode body, Integer ifMatch) {
        HttpRequest.Builder b = request(path)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (ifMatch != null) {
            b.header("If-Match", "\"" + ifMatch + "\"");
        }
        return send(b.build());
    }

    JsonNode delete(String path) {
        return send(request(path).DELETE().build());
    }

    /** One page of a text export: its body and the {@code Gaffer-Next-Since} header. */
    record TextPage(String body, long nextSince) {}

    TextPage getText(String path) {
        HttpResponse<String> resp = exchange(request(path).GET().build());
        long next = resp.headers()
                .firstValue("Gaffer-Next-Since")
                .map(Long::parseLong)
                .orElseThrow(() -> new IllegalStateException("the API did not say where the next page starts"));
        return new TextPage(resp.body(), next);
    }

    /**
     * Reads a server-sent event stream and hands each event's data to {@code onData} until the
     * stream ends or {@code onData} throws {@link StopStream}.
     */
    void stream(String path, Consumer<String> onData) {
        HttpRequest req =
                request(path).header("Accept", "text/event-stream").GET().build();
        HttpResponse<java.io.InputStream> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (resp.statusCode() >= 400) {
            try (var in = resp.body()) {
                throw error(resp.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw unreachable(e);
            }
        }
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        onData.accept(data.toString());
                        data.setLength(0);
                    }
                } else if (line.startsWith("data:")) {
                    if (!data.isEmpty()) {
                        data.append('\n');
                    }
                    data.append(line.substring(5).stripLeading());
                }
            }
        } catch (StopStream stop) {
            // the caller has what it wanted
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** Thrown by a stream consumer to end the stream. */
    static final class StopStream extends RuntimeException {
        StopStream() {
            super(null, null, false, false);
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
        if (path.endsWith("/stream")) {
            b.timeout(Duration.ofDays(1));
        }
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    private JsonNode send(HttpRequest req) {
        HttpResponse<String> resp = exchange(req);
        try {
            return resp.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new IllegalStateException("the API at " + base + " answered with something that is not JSON");
        }
    }

    /** Sends {@code req}; an answer of 400 or more is an {@link ApiException} with the problem's detail. */
    private HttpResponse<String> exchange(HttpRequest req) {
        HttpResponse<String> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        if (resp.statusCode() >= 400) {
            throw error(resp.statusCode(), resp.body());
        }
        return resp;
    }

    private static ApiException error(int status, String body) {
        String detail = body;
        try {
            JsonNode problem = JSON.readTree(body);
            if (problem.hasNonNull("detail")) {
                detail = problem.get("detail").asText();
            } else if (problem.hasNonNull("title")) {
                detail = problem.get("title").asText();
            }
        } catch (IOException ignored) {
            // not JSON: show the body as it came
        }
        return new ApiException(status, "the API refused (HTTP " + status + "): " + detail);
    }

    private IllegalStateException unreachable(IOException e) {
        String why = e instanceof ConnectException ? "connection refused" : String.valueOf(e.getMessage());
        return new IllegalStateException("cannot reach the API at " + base + " (" + why
                + "); is `gaffer api` or `gaffer dev` running, and is GAFFER_URL right?");
    }
}
