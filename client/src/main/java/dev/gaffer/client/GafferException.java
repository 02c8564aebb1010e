package dev.gaffer.client;

/**
 * What the API refused, from its problem+json answer: the HTTP status, the problem's title and
 * detail, and the field at fault when it names one. The subclasses are the answers a caller
 * handles on their own.
 */
public class GafferException extends RuntimeException {

    private final int status;
    private final String title;
    private final String detail;
    private final String field;

    public GafferException(int status, String title, String detail, String field) {
        super(status + " " + title + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.status = status;
        this.title = title;
        this.detail = detail;
        this.field = field;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return detail;
    }

    /** The request field the problem is about (e.g. {@code parameters.ms}), or null. */
    public String field() {
        return field;
    }

    /** 404: no such job (or artifact). */
    public static final class NotFound extends GafferException {
        public NotFound(String title, String detail, String field) {
            super(404, title, detail, field);
        }
    }

    /** 422: the request was understood and refused; {@link #field()} names what to fix. */
    public static final class Invalid extends GafferException {
        public Invalid(String title, String detail, String field) {
            super(422, title, detail, field);
        }
    }

    /** 401 (no or a wrong key) or 403 (the key's role may not do this). */
    public static final class Denied extends GafferException {
        public Denied(int status, String title, String detail, String field) {
            super(status, title, detail, field);
        }
    }

    /** 5xx: the server or its database could not answer (after the retries of idempotent calls). */
    public static final class Unavailable extends GafferException {
        public Unavailable(int status, String title, String detail, String field) {
            super(status, title, detail, field);
        }
    }

    static GafferException of(int status, String title, String detail, String field) {
        return switch (status) {
            case 404 -> new NotFound(title, detail, field);
            case 422 -> new Invalid(title, detail, field);
            case 401, 403 -> new Denied(status, title, detail, field);
            default ->
                status >= 500
                        ? new Unavailable(status, title, detail, field)
                        : new GafferException(status, title, detail, field);
        };
    }
}
