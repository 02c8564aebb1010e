package dev.gaffer.api;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The errors Jetty answers itself, before a request reaches a route (a header too large, 431; a
 * request line or path it cannot parse, 400), as {@code application/problem+json} like every
 * other error of the API, instead of Jetty's HTML page.
 */
final class JettyErrors extends ErrorHandler {

    private static final HttpField PROBLEM_JSON = new HttpField(HttpHeader.CONTENT_TYPE, Problem.CONTENT_TYPE);

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus() > 0 ? response.getStatus() : 500;
        Object message = request.getAttribute(ERROR_MESSAGE);
        response.getHeaders().put(PROBLEM_JSON);
        response.getHeaders().put(ERROR_CACHE_CONTROL);
        response.write(true, ByteBuffer.wrap(body(status, message == null ? null : message.toString())), callback);
        return true;
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(PROBLEM_JSON);
        return ByteBuffer.wrap(body(status, reason));
    }

    static byte[] body(int status, String reason) {
        String title = HttpStatus.getMessage(status);
        boolean says = reason != null && !reason.isBlank() && !reason.equalsIgnoreCase(title);
        String detail = switch (status) {
            case 431 -> "the request's headers are larger than the server accepts";
            case 400 ->
                "the request could not be read (a malformed request line, path or header)"
                        + (says ? ": " + reason : "");
            default -> says ? reason : title;
        };
        try {
            return JsonSupport.MAPPER.writeValueAsBytes(Problem.of(status, title, detail, null));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return ("{\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8);
        }
    }
}
