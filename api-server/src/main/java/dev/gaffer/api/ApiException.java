package dev.gaffer.api;

/**
 * An HTTP error a controller or the auth filter throws; {@link ErrorMapper} turns it into an
 * {@code application/problem+json} response. {@code field} names the request field at fault.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String title;
    private final String field;

    private ApiException(int status, String title, String detail, String field) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
        this.field = field;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public String field() {
        return field;
    }

    public static ApiException badRequest(String detail) {
        return new ApiException(400, "Bad Request", detail, null);
    }

    public static ApiException badRequest(String field, String detail) {
        return new ApiException(400, "Bad Request", detail, field);
    }

    public static ApiException unauthorized(String detail) {
        return new ApiException(401, "Unauthorized", detail, null);
    }

    public static ApiException forbidden(String detail) {
        return new ApiException(403, "Forbidden", detail, null);
    }

    public static ApiException notFound(String detail) {
        return new ApiException(404, "Not Found", detail, null);
    }

    /** What the request names existed and is no more (a callback URL used, expired or replaced). */
    public static ApiException gone(String detail) {
        return new ApiException(410, "Gone", detail, null);
    }

    public static ApiException conflict(String field, String detail) {
        return new ApiException(409, "Conflict", detail, field);
    }

    public static ApiException tooLarge(String detail) {
        return new ApiException(413, "Content Too Large", detail, null);
    }

    public static ApiException unsupportedMediaType(String detail) {
        return new ApiException(415, "Unsupported Media Type", detail, null);
    }

    public static ApiException methodNotAllowed(String detail) {
        return new ApiException(405, "Method Not Allowed", detail, null);
    }

    /** The request's If-Match names a version that is no longer the current one. */
    public static ApiException preconditionFailed(String field, String detail) {
        return new ApiException(412, "Precondition Failed", detail, field);
    }

    /** The request must name the version it changes (If-Match) and did not. */
    public static ApiException preconditionRequired(String field, String detail) {
        return new ApiException(428, "Precondition Required", detail, field);
    }

    public static ApiException unprocessable(String field, String detail) {
        return new ApiException(422, "Unprocessable Content", detail, field);
    }

    public static ApiException unavailable(String detail) {
        return new ApiException(503, "Service Unavailable", detail, null);
    }
}
