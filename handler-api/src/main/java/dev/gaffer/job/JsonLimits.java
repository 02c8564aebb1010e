package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;

/**
 * What a job's JSON documents (parameters, storyboard, a handler's result) may contain, checked
 * before anything is stored. Each limit is tighter than what any reader of the document allows
 * later (Jackson refuses to write more than 1 000 levels of nesting, PostgreSQL's jsonb refuses
 * the NUL character), so a document that was accepted can always be served back: one job can
 * never break a listing for everyone. And nothing is changed silently on the way to the table: a
 * string with half a UTF-16 surrogate pair would be stored as "?", and a number outside a double's
 * range as the string "Infinity" or as 0, so both are refused instead.
 *
 * <p>Every refusal is an {@link InvalidJobException} whose field is the path of the offending
 * value, e.g. {@code parameters.scenes[3].caption}.
 */
public final class JsonLimits {

    /** Containers inside containers; the document itself is level 1. */
    public static final int MAX_DEPTH = 64;

    public static final int MAX_KEY_LENGTH = 256;

    /** Characters in one string value. */
    public static final int MAX_STRING_LENGTH = 1_000_000;

    private JsonLimits() {}

    /**
     * Checks {@code doc} (null passes) and returns it, with any exact decimal (as a parser in
     * BigDecimal mode reads them) replaced by the double it stands for, once that double is known
     * to be the same number within a double's precision.
     */
    public static JsonNode checked(String field, JsonNode doc) {
        return doc == null ? null : check(field, doc, 1);
    }

    private static JsonNode check(String path, JsonNode node, int depth) {
        if (node.isContainerNode() && depth > MAX_DEPTH) {
            throw new InvalidJobException(path, "nests deeper than " + MAX_DEPTH + " levels");
        }
        if (node.isObject()) {
            ObjectNode replaced = null;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = e.getKey();
                String at = path + "." + printable(key);
                text(at, key, "key", MAX_KEY_LENGTH);
                JsonNode value = check(at, e.getValue(), depth + 1);
                if (value != e.getValue()) {
                    if (replaced == null) {
                        replaced = ((ObjectNode) node).deepCopy();
                    }
                    replaced.set(key, value);
                }
            }
            return replaced == null ? node : replaced;
        }
        if (node.isArray()) {
            ArrayNode replaced = null;
            for (int i = 0; i < node.size(); i++) {
                JsonNode value = check(path + "[" + i + "]", node.get(i), depth + 1);
                if (value != node.get(i)) {
                    if (replaced == null) {
                        replaced = ((ArrayNode) node).deepCopy();
                    }
                    replaced.set(i, value);
                }
            }
            return replaced == null ? node : replaced;
        }
        if (node.isTextual()) {
            text(path, node.textValue(), "string", MAX_STRING_LENGTH);
            return node;
        }
        if (node.isBigDecimal()) {
            BigDecimal exact = node.decimalValue();
            double d = exact.doubleValue();
            if (Double.isInfinite(d) || (d == 0 && exact.signum() != 0)) {
                throw outOfRange(path, exact.toString());
            }
            return DoubleNode.valueOf(d);
        }
        if ((node.isDouble() || node.isFloat()) && !Double.isFinite(node.doubleValue())) {
            throw outOfRange(path, String.valueOf(node.doubleValue()));
        }
        return node;
    }

    private static InvalidJobException outOfRange(String path, String value) {
        return new InvalidJobException(
                path,
                "is " + value + ", outside the range of a 64-bit floating-point number (about ±1.8e308, and"
                        + " at least 4.9e-324 when not zero)");
    }

    private static void text(String path, String s, String what, int maxLength) {
        if (s.length() > maxLength) {
            throw new InvalidJobException(
                    path, "is a " + what + " of " + s.length() + " characters; at most " + maxLength + " are allowed");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\u0000') {
                throw new InvalidJobException(
                        path, "contains the NUL character (\\u0000) in a " + what + ", which PostgreSQL cannot store");
            }
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidJobException(
                        path,
                        "contains an unpaired UTF-16 surrogate (\\u" + Integer.toHexString(c) + ") in a " + what
                                + ", which is not text and cannot be stored as UTF-8");
            }
        }
    }

    /** A key as it appears in a path: cut, and with control characters escaped, so the message stays readable. */
    private static String printable(String key) {
        String cut = key.length() > 40 ? key.substring(0, 40) + "…" : key;
        StringBuilder sb = new StringBuilder(cut.length());
        for (char c : cut.toCharArray()) {
            if (c < 0x20 || Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
