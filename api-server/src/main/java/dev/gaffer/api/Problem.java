package dev.gaffer.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** An RFC 9457 problem document; {@code field} (an extension) names the request field at fault. */
@JsonPropertyOrder({"type", "title", "status", "detail", "field"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String field) {

    public static final String CONTENT_TYPE = "application/problem+json";

    static Problem of(int status, String title, String detail, String field) {
        return new Problem("about:blank", title, status, detail, field);
    }
}
