package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.JobRequests;
import java.util.Iterator;

/**
 * The body of a decision (approve, reject, request changes): one text field, {@code comment} or
 * {@code reason}, and optionally the {@code gate} the reviewer decides (without it, whichever
 * review is open). Other fields are refused, so that a misspelt {@code reson} is not taken for a
 * rejection without a reason.
 */
final class DecisionBody {

    private DecisionBody() {}

    /** The text of {@code field} in {@code body}; 422 when missing and {@code required}, blank, not text or too long. */
    static String text(JsonNode body, String field, boolean required) {
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(field) && !name.equals(GATE)) {
                throw ApiException.unprocessable(
                        Params.printable(name),
                        "unknown field '" + Params.printable(name) + "'; this decision takes only '" + field
                                + "' and 'gate'");
            }
        }
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw ApiException.unprocessable(field, field + " is required: say why");
            }
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.unprocessable(field, field + " must be a string");
        }
        String text = n.asText();
        if (text.isBlank()) {
            throw ApiException.unprocessable(field, field + " must not be blank");
        }
        if (text.length() > JobRequests.MAX_COMMENT) {
            throw ApiException.unprocessable(
                    field,
                    field + " may have at most " + JobRequests.MAX_COMMENT + " characters, got " + text.length());
        }
        return text;
    }

    static final String GATE = "gate";

    /** The gate a decision is about, or null (whichever review is open); 422 when it is not a gate's name. */
    static String gate(JsonNode body) {
        JsonNode n = body == null ? null : body.get(GATE);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual() || !Params.NAME.matcher(n.asText()).matches()) {
            throw ApiException.unprocessable(
                    GATE,
                    "gate must be the name of a gate (plan, or one the job type declares: a-z, 0-9, _ . -), got "
                            + Params.printable(n.toString()));
        }
        return n.asText();
    }
}
