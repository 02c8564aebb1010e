package dev.gaffer.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The JSON documents of a job, read and written as Jackson trees. */
public final class Json {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    public static JsonNode parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            // Only PostgreSQL's own jsonb output reaches this; failing to parse it is a bug.
            throw new IllegalStateException("jsonb from PostgreSQL did not parse", e);
        }
    }

    public static String write(JsonNode node) {
        if (node == null) {
            return null;
        }
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JsonNode did not serialize", e);
        }
    }
}
