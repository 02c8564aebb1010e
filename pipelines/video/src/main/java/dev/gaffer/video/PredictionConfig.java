package dev.gaffer.video;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the {@code scene_prediction} renderer sends its scenes: a service that speaks Replicate's
 * HTTP prediction protocol ({@code POST /v1/predictions}, {@code GET /v1/predictions/{id}}, {@code
 * POST /v1/predictions/{id}/cancel}), configured from the worker's environment:
 *
 * <ul>
 *   <li>{@code GAFFER_PREDICTION_URL}: the service's base URL, e.g. {@code https://api.replicate.com}
 *       (unset: no prediction renderer on this worker);
 *   <li>{@code GAFFER_PREDICTION_TOKEN}: its API token, sent as {@code Authorization: Bearer};
 *   <li>{@code GAFFER_PREDICTION_MODEL}: the model version every scene is made with;
 *   <li>{@code GAFFER_PREDICTION_RATE}: at most this many requests to the service, e.g. {@code 10/s}
 *       or {@code 600/m} (default 10/s), per worker process; a 429 waits its Retry-After;
 *   <li>{@code GAFFER_PUBLIC_URL}: the API's address as the service reaches it, for the webhook
 *       (unset: no webhook, the renderer polls);
 *   <li>{@code GAFFER_PREDICTION_TIMEOUT} (default 10m) and {@code GAFFER_PREDICTION_POLL} (default
 *       30s with a webhook, 5s without): how long a scene waits for its prediction, and how often it
 *       looks.
 * </ul>
 */
public record PredictionConfig(
        URI baseUrl,
        String token,
        String model,
        double requestsPerSecond,
        URI publicUrl,
        Duration timeout,
        Duration pollEvery) {

    private static final Pattern RATE = Pattern.compile("^(\\d+(?:\\.\\d+)?)/(s|m)$");
    private static final Pattern DURATION = Pattern.compile("^(\\d+)(ms|s|m|h)$");

    public PredictionConfig {
        if (requestsPerSecond <= 0) {
            throw new IllegalArgumentException("GAFFER_PREDICTION_RATE must be positive");
        }
    }

    /** The renderer's name in the scenes' input hashes: the model version makes another clip. */
    public String rendererId() {
        return "prediction/" + model;
    }

    /** The configuration in {@code env}, or empty when {@code GAFFER_PREDICTION_URL} is unset. */
    public static Optional<PredictionConfig> fromEnvironment(Map<String, String> env) {
        String base = env.get("GAFFER_PREDICTION_URL");
        if (base == null || base.isBlank()) {
            return Optional.empty();
        }
        String token = required(env, "GAFFER_PREDICTION_TOKEN");
        String model = required(env, "GAFFER_PREDICTION_MODEL");
        String publicUrl = env.get("GAFFER_PUBLIC_URL");
        boolean webhook = publicUrl != null && !publicUrl.isBlank();
        return Optional.of(new PredictionConfig(
                uri("GAFFER_PREDICTION_URL", base),
                token,
                model,
                rate(env.getOrDefault("GAFFER_PREDICTION_RATE", "10/s")),
                webhook ? uri("GAFFER_PUBLIC_URL", publicUrl) : null,
                duration(env, "GAFFER_PREDICTION_TIMEOUT", Duration.ofMinutes(10)),
                duration(env, "GAFFER_PREDICTION_POLL", webhook ? Duration.ofSeconds(30) : Duration.ofSeconds(5))));
    }

    private static String required(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " must be set when GAFFER_PREDICTION_URL is");
        }
        return v.strip();
    }

    private static URI uri(String name, String text) {
        try {
            URI u = URI.create(text.strip().replaceAll("/+$", ""));
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("not http(s)");
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " must be an http(s) URL, got '" + text + "'");
        }
    }

    static double rate(String text) {
        Matcher m = RATE.matcher(text.strip());
        if (!m.matches() || Double.parseDouble(m.group(1)) <= 0) {
            throw new IllegalArgumentException(
                    "GAFFER_PREDICTION_RATE must be requests per second or minute, e.g. 10/s or 600/m, got '" + text
                            + "'");
        }
        double n = Double.parseDouble(m.group(1));
        return m.group(2).equals("s") ? n : n / 60.0;
    }

    private static Duration duration(Map<String, String> env, String name, Duration dflt) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        Matcher m = DURATION.matcher(v.strip());
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException(
                    name + " must be a positive duration such as 500ms, 30s, 10m, got '" + v + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
