package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.NewJob;
import dev.gaffer.video.VideoSpec;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/**
 * The body of {@code POST /api/v3/jobs}, checked field by field so that every refusal names its
 * field. Unknown fields are refused too: a misspelt {@code max_atempts} should not silently
 * become the default.
 */
final class CreateJobRequest {

    /** Job types whose parameters and storyboard are a {@link VideoSpec}. */
    static final Set<String> VIDEO_TYPES = Set.of("video", "image_pairs");

    static final Set<String> FIELDS =
            Set.of("type", "parameters", "storyboard", "queue", "priority", "max_attempts", "run_at");

    private CreateJobRequest() {}

    static NewJob parse(JsonNode body, ApiConfig config, String idempotencyKey, String createdBy) {
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw ApiException.unprocessable(
                        name, "unknown field '" + name + "'; expected some of " + new TreeSet<>(FIELDS));
            }
        }
        JsonNode typeNode = body.get("type");
        if (typeNode == null || typeNode.isNull()) {
            throw ApiException.unprocessable("type", "type is required");
        }
        if (!typeNode.isTextual()) {
            throw ApiException.unprocessable("type", "type must be a string");
        }
        String type = typeNode.asText();
        if (!config.jobTypes().contains(type)) {
            throw ApiException.unprocessable(
                    "type",
                    "unknown job type '" + type + "'; this server accepts " + new TreeSet<>(config.jobTypes())
                            + " (GAFFER_JOB_TYPES)");
        }
        JsonNode parameters = body.get("parameters");
        if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
            throw ApiException.unprocessable("parameters", "parameters must be a JSON object");
        }
        String queue = optionalText(body, "queue");
        int priority = optionalInt(body, "priority", 0);
        int maxAttempts = optionalInt(body, "max_attempts", config.defaultMaxAttempts());
        Instant runAt = null;
        String runAtText = optionalText(body, "run_at");
        if (runAtText != null) {
            try {
                runAt = java.time.OffsetDateTime.parse(runAtText).toInstant();
            } catch (DateTimeParseException e) {
                throw ApiException.unprocessable(
                        "run_at", "run_at must be an ISO-8601 timestamp with offset, e.g. 2026-01-31T12:00:00Z");
            }
        }
        if (VIDEO_TYPES.contains(type)) {
            // The reference pipeline's storyboard is checked now, while the client can fix it,
            // rather than failing after a person approved it.
            try {
                VideoSpec.from(parameters, body.get("storyboard"));
            } catch (VideoSpec.InvalidSpecException e) {
                throw ApiException.unprocessable(e.field(), e.getMessage());
            }
        }
        try {
            return new NewJob(
                    type,
                    queue,
                    priority,
                    parameters == null || parameters.isNull() ? null : parameters,
                    body.get("storyboard"),
                    maxAttempts,
                    runAt,
                    idempotencyKey,
                    createdBy);
        } catch (InvalidJobException e) {
            String field = e.field().equals("idempotency_key") ? "Idempotency-Key" : e.field();
            throw ApiException.unprocessable(field, e.getMessage());
        }
    }

    private static String optionalText(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.unprocessable(field, field + " must be a string");
        }
        return n.asText();
    }

    private static int optionalInt(JsonNode body, String field, int fallback) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw ApiException.unprocessable(field, field + " must be a whole number");
        }
        return n.intValue();
    }
}
