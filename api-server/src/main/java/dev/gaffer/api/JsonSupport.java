package dev.gaffer.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.javalin.http.Context;
import java.io.IOException;

/** The API's one ObjectMapper: snake_case names, ISO-8601 UTC timestamps, and body helpers. */
public final class JsonSupport {

    public static final ObjectMapper MAPPER = configured()
            .addModule(new SimpleModule("gaffer-api-responses")
                    .addSerializer(Responses.JobResponse.class, new JobResponseSerializer()))
            .build();

    /**
     * The settings of {@link #MAPPER} without its hand-written serializers: what those must write
     * the same bytes as (JobResponseSerializerTest).
     */
    static JsonMapper.Builder configured() {
        // Jackson lends each parser and generator its buffers (tens of KB) from a pool, by default
        // one per thread. Every request here runs on a virtual thread of its own, so that pool
        // would hand each request fresh buffers to allocate and drop; a pool shared by all
        // threads reuses them.
        return JsonMapper.builder(JsonFactory.builder()
                        .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                        .build())
                .addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    }

    /**
     * Request bodies: decimals are read exactly, so that JsonLimits can refuse a number a double
     * would change (1e400 becoming Infinity, 1e-400 becoming 0) before it is stored as a double.
     */
    private static final ObjectReader BODY_READER =
            MAPPER.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private JsonSupport() {}

    static void write(Context ctx, int status, Object body) {
        write(ctx, status, body, "application/json");
    }

    /**
     * Writes the whole body at once to the response's stream (Javalin's, which gzips what is large
     * enough when the client accepts it). Through {@code ctx.result(bytes)} Javalin would copy the
     * bytes over with a new buffer of the response's buffer size (32 KiB) for every response.
     */
    static void write(Context ctx, int status, Object body, String contentType) {
        byte[] bytes;
        try {
            bytes = MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a response record did not serialize", e);
        }
        ctx.status(status).contentType(contentType);
        try {
            ctx.outputStream().write(bytes);
        } catch (IOException e) {
            // The client went away (Jetty's EofException): thrown as it is, so that Javalin treats
            // it as it treats a failed write of a result, as an aborted request.
            throw sneaky(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable e) throws E {
        throw (E) e;
    }

    /**
     * Reads the request body as a JSON object. The size limit is checked here as well as by
     * Javalin, so that a chunked body without Content-Length gets the same 413.
     */
    static JsonNode readObject(Context ctx, long maxBytes) {
        JsonNode node = readValue(ctx, maxBytes);
        if (!node.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        return node;
    }

    /**
     * The request body as a JSON object, or null when the request has no body at all (no bytes):
     * for the routes whose body is optional (approve, with or without a comment).
     */
    static JsonNode readOptionalObject(Context ctx, long maxBytes) {
        if (ctx.req().getContentLengthLong() == 0
                || (ctx.req().getContentLengthLong() < 0
                        && ctx.header("Content-Type") == null
                        && ctx.header("Transfer-Encoding") == null)) {
            return null;
        }
        return readObject(ctx, maxBytes);
    }

    /** The request body as one JSON document of any kind except null; limits as {@link #readObject}. */
    static JsonNode readValue(Context ctx, long maxBytes) {
        requireJsonContentType(ctx);
        long declared = ctx.req().getContentLengthLong();
        byte[] body;
        try (var in = ctx.req().getInputStream()) {
            if (declared > maxBytes) {
                throw refuseTooLarge(ctx, in, maxBytes);
            }
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (body.length > maxBytes) {
                throw refuseTooLarge(ctx, in, maxBytes);
            }
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("the request body could not be read: " + e.getMessage());
        }
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty; expected JSON");
        }
        JsonNode node;
        try {
            node = BODY_READER.readTree(body);
        } catch (java.io.IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw ApiException.badRequest("the request body is not valid JSON: " + why);
        }
        if (node == null || node.isNull() || node.isMissingNode()) {
            throw ApiException.badRequest("the request body must be a JSON document, not null");
        }
        return node;
    }

    /**
     * A body is read only when it says it is JSON ({@code application/json} or a {@code +json}
     * type, with any parameters): a form or a text/plain post from another page is not a job.
     */
    private static void requireJsonContentType(Context ctx) {
        String type = ctx.header("Content-Type");
        String media = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        if (!media.equals("application/json") && !(media.startsWith("application/") && media.endsWith("+json"))) {
            ctx.header("Accept-Post", "application/json");
            throw ApiException.unsupportedMediaType(
                    "the request body must be JSON, sent with 'Content-Type:" + " application/json'; got "
                            + (type == null ? "no Content-Type" : "'" + Params.printable(type) + "'"));
        }
    }

    /**
     * The 413 for a body over the limit, after reading and dropping the rest of it, up to {@link
     * #drainBudget}. Refusing without reading is not enough: the connection would be closed with
     * the client's bytes still unread, the kernel answers such a close with a reset, and the reset
     * throws the 413 away before the client reads it. A body larger than the budget is not read;
     * that connection is closed, and its client may see the reset.
     */
    private static ApiException refuseTooLarge(Context ctx, java.io.InputStream in, long maxBytes)
            throws java.io.IOException {
        long budget = drainBudget(maxBytes);
        long dropped = 0;
        byte[] sink = new byte[16 * 1024];
        for (int n; dropped <= budget && (n = in.read(sink)) >= 0; ) {
            dropped += n;
        }
        if (dropped > budget) {
            ctx.header("Connection", "close");
        }
        return tooLarge(maxBytes);
    }

    /** How much of an oversized body is read to be dropped: four times the limit, 4 to 64 MiB. */
    static long drainBudget(long maxBytes) {
        return Math.min(64L << 20, Math.max(4 * maxBytes, 4L << 20));
    }

    private static ApiException tooLarge(long maxBytes) {
        return ApiException.tooLarge(
                "the request body is larger than the limit of " + maxBytes + " bytes (GAFFER_MAX_BODY_BYTES)");
    }
}
