package dev.gaffer.api;

import dev.gaffer.db.DatabaseException;
import dev.gaffer.job.InvalidJobException;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.router.EndpointNotFound;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where exceptions become HTTP statuses, as {@code application/problem+json}. Bad
 * input is always a 4xx with a detail that says what was wrong; an unreachable database is a 503;
 * only a bug is a 500, and its stack trace goes to the log, never to the client.
 */
final class ErrorMapper {

    private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

    private ErrorMapper() {}

    static void api(ApiException e, Context ctx) {
        write(ctx, Problem.of(e.status(), e.title(), e.getMessage(), e.field()));
    }

    static void invalidJob(InvalidJobException e, Context ctx) {
        write(ctx, Problem.of(422, "Unprocessable Content", e.getMessage(), e.field()));
    }

    static void database(DatabaseException e, Context ctx) {
        switch (e.kind()) {
            case UNAVAILABLE -> {
                log.warn("database unavailable during {} {}: {}", ctx.method(), ctx.path(), e.getMessage());
                ctx.header("Retry-After", "5");
                write(
                        ctx,
                        Problem.of(503, "Service Unavailable", "the database is unavailable; try again shortly", null));
            }
            case UNIQUE_VIOLATION, CONSTRAINT_VIOLATION -> {
                log.info("constraint rejected {} {}: {}", ctx.method(), ctx.path(), e.getMessage());
                write(
                        ctx,
                        Problem.of(
                                409,
                                "Conflict",
                                "the database refused the change as conflicting with its rules",
                                null));
            }
            case OTHER -> unexpected(e, ctx);
        }
    }

    static void javalin(HttpResponseException e, Context ctx) {
        int status = e.getStatus();
        String detail = e instanceof EndpointNotFound
                ? "no route " + ctx.method() + " " + Params.printable(ctx.path())
                        + "; the routes are listed at /api/v3/openapi.json"
                : e.getMessage();
        if (status == 413) {
            detail = "the request body is larger than the configured limit (GAFFER_MAX_BODY_BYTES)";
        }
        if (status == 405) {
            String allowed = e.getDetails().values().stream().findFirst().orElse("");
            ctx.header("Allow", allowed);
            detail = ctx.method() + " is not allowed on " + Params.printable(ctx.path()) + "; allowed: " + allowed;
        }
        write(ctx, Problem.of(status, reason(status), detail, null));
    }

    static void unexpected(Exception e, Context ctx) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof DatabaseException d && d.isUnavailable()) {
                database(d, ctx);
                return;
            }
        }
        log.error("unexpected error in {} {}", ctx.method(), ctx.path(), e);
        write(ctx, Problem.of(500, "Internal Server Error", "an unexpected error occurred; it has been logged", null));
    }

    private static void write(Context ctx, Problem p) {
        JsonSupport.write(ctx, p.status(), p, Problem.CONTENT_TYPE);
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 413 -> "Content Too Large";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Server Error" : "Client Error";
        };
    }
}
