package dev.gaffer.worker;

/** The text kept in last_error and job_events for a handler's exception: class, message, top frames. */
final class ErrorSummary {

    static final int MAX_FRAMES = 10;
    static final int MAX_CHARS = 4000;

    private ErrorSummary() {}

    static String of(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Throwable cause = t;
        for (int depth = 0; cause != null && depth < 3; depth++, cause = cause.getCause()) {
            if (depth > 0) {
                sb.append("\nCaused by: ");
            }
            sb.append(cause.getClass().getName());
            if (cause.getMessage() != null) {
                sb.append(": ").append(cause.getMessage());
            }
            StackTraceElement[] frames = cause.getStackTrace();
            for (int i = 0; i < Math.min(MAX_FRAMES, frames.length); i++) {
                sb.append("\n\tat ").append(frames[i]);
            }
            if (frames.length > MAX_FRAMES) {
                sb.append("\n\t... ").append(frames.length - MAX_FRAMES).append(" more");
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return cap(sb.toString());
    }

    static String cap(String s) {
        return s.length() <= MAX_CHARS ? s : s.substring(0, MAX_CHARS - 3) + "...";
    }
}
