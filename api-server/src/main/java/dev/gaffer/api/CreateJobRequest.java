package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.job.JsonLimits;
import dev.gaffer.job.NewJob;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/**
 * The body of {@code POST /api/v3/jobs}, checked field by field so that every refusal names its
 * field. Unknown fields are refused too: a misspelt {@code max_atempts} should not silently
 * become the default. The documents are checked against {@link JsonLimits} before anything else
 * reads them, then by the job type's own validator (if one is on the class path), then by {@link
 * NewJob}, which also checks what Gaffer itself reads ({@code parameters.timeout_ms}).
 */
final class CreateJobRequest {

    static final Set<String> FIELDS =
            Set.of("type", "parameters", "storyboard", "queue", "priority", "max_attempts", "run_at");

    private CreateJobRequest() {}

    static NewJob parse(
            JsonNode body, ApiConfig config, JobTypeValidators validators, String idempotencyKey, String createdBy) {
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw ApiException.unprocessable(
                        Params.printable(name),
                        "unknown field '" + Params.printable(name) + "'; expected some of " + new TreeSet<>(FIELDS));
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
                    "unknown job type '" + Params.printable(type) + "'; this server accepts "
                            + new TreeSet<>(config.jobTypes()) + " (GAFFER_JOB_TYPES)");
        }
        JsonNode parameters = body.get("parameters");
        if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
            throw ApiException.unprocessable("parameters", "parameters must be a JSON object");
        }
        parameters = parameters == null || parameters.isNull() ? null : JsonLimits.checked("parameters", parameters);
        JsonNode storyboard = JsonLimits.checked("storyboard", body.get("storyboard"));
        String queue = optionalText(body, "queue");
        int priority = optionalInt(body, "priority", 0, NewJob.MIN_PRIORITY, NewJob.MAX_PRIORITY);
        int maxAttempts = optionalInt(body, "max_attempts", config.defaultMaxAttempts(), 1, NewJob.MAX_ATTEMPTS_LIMIT);
        Instant runAt = null;
        String runAtText = optionalText(body, "run_at");
        if (runAtText != null) {
            try {
                runAt = OffsetDateTime.parse(runAtText).toInstant();
            } catch (DateTimeParseException e) {
                throw ApiException.unprocessable(
                        "run_at", "run_at must be an ISO-8601 timestamp with offset, e.g. 2026-01-31T12:00:00Z");
            }
        }
        try {
            NewJob job = new NewJob(
                    type, queue, priority, parameters, storyboard, maxAttempts, runAt, idempotencyKey, createdBy);
            validators.validate(type, job.parameters(), job.storyboard());
            return job;
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

    private static int optionalInt(JsonNode body, String field, int fallback, int min, int max) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
            throw ApiException.unprocessable(
                    field, field + " must be a whole number from " + min + " to " + max + ", got " + n);
        }
        return n.intValue();
    }
}
