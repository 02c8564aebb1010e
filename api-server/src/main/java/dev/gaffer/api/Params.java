package dev.gaffer.api;

import io.javalin.http.Context;

/** Path and query parameters, parsed with errors that name the parameter. */
final class Params {

    private Params() {}

    static long jobId(Context ctx) {
        String text = ctx.pathParam("id");
        long id = parseLong("id", text, "job id");
        if (id <= 0) {
            throw ApiException.badRequest(
                    "id", "job id must be a positive whole number, got '" + printable(text) + "'");
        }
        return id;
    }

    static Long optionalLong(Context ctx, String name) {
        String text = ctx.queryParam(name);
        return text == null || text.isEmpty() ? null : parseLong(name, text, name);
    }

    /** The resume point of an event feed: {@code Last-Event-ID} (what EventSource sends) wins over {@code ?since=}. */
    static long since(Context ctx) {
        String header = ctx.header("Last-Event-ID");
        if (header != null && !header.isBlank()) {
            return nonNegative("Last-Event-ID", header.strip());
        }
        String query = ctx.queryParam("since");
        return query == null || query.isEmpty() ? 0 : nonNegative("since", query);
    }

    static Long optionalSince(Context ctx) {
        String header = ctx.header("Last-Event-ID");
        String query = ctx.queryParam("since");
        if ((header == null || header.isBlank()) && (query == null || query.isEmpty())) {
            return null;
        }
        return since(ctx);
    }

    static int limit(Context ctx, int fallback, int max) {
        return limit(ctx, fallback, max, "limit");
    }

    static int limit(Context ctx, int fallback, int max, String name) {
        String text = ctx.queryParam(name);
        if (text == null || text.isEmpty()) {
            return fallback;
        }
        long limit = parseLong(name, text, name);
        if (limit < 1 || limit > max) {
            throw ApiException.unprocessable(name, name + " must be between 1 and " + max + ", got " + limit);
        }
        return (int) limit;
    }

    /**
     * Client text as it may appear in an error message: control characters and halves of
     * surrogate pairs escaped, and cut after 100 characters.
     */
    static String printable(String text) {
        String cut = text.length() > 100 ? text.substring(0, 100) + "…" : text;
        StringBuilder sb = new StringBuilder(cut.length());
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            boolean pair =
                    Character.isHighSurrogate(c) && i + 1 < cut.length() && Character.isLowSurrogate(cut.charAt(i + 1));
            if (pair) {
                sb.append(c).append(cut.charAt(++i));
            } else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * A filter on a job type or queue name: anything that is not a name can match no job, and
     * PostgreSQL could not even compare some of it (NUL), so it is refused with the name's rules.
     */
    static String optionalName(Context ctx, String name) {
        String text = ctx.queryParam(name);
        if (text == null || text.isEmpty()) {
            return null;
        }
        return checkedName(name, text);
    }

    /** A path parameter that is a job type or queue name, refused with the same rules. */
    static String name(Context ctx, String param) {
        return checkedName(param, ctx.pathParam(param));
    }

    private static String checkedName(String name, String text) {
        if (!NAME.matcher(text).matches()) {
            throw ApiException.unprocessable(
                    name,
                    name + " must be a " + name + " name: a lower-case letter, then a-z, 0-9, '_', '.', '-' (at most 63"
                            + " characters), got '" + printable(text) + "'");
        }
        return text;
    }

    static final java.util.regex.Pattern NAME = dev.gaffer.job.NewJob.NAME;

    private static long nonNegative(String name, String text) {
        long v = parseLong(name, text, name);
        if (v < 0) {
            throw ApiException.badRequest(name, name + " must not be negative, got " + v);
        }
        return v;
    }

    private static long parseLong(String name, String text, String what) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(name, what + " must be a whole number, got '" + printable(text) + "'");
        }
    }
}
