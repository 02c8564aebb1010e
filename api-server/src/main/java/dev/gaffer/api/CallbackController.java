package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.CallbackStore;
import dev.gaffer.job.CallbackTokens;
import io.javalin.http.Context;

/**
 * {@code POST /api/v3/callbacks/{token}} (issue 19): where an external service reports work that a
 * job's handler handed it. No API key: the token is the credential, signed by Gaffer for one wait
 * of one attempt ({@link CallbackTokens}). A token that is not Gaffer's is 401; a good one that was
 * used, whose wait expired or was replaced (a newer attempt, a retry) is 410, and changes nothing.
 */
final class CallbackController {

    record Accepted(long jobId, String message) {}

    private final CallbackTokens tokens;
    private final CallbackStore callbacks;
    private final ApiConfig config;
    private final ApiMetrics metrics;

    CallbackController(CallbackTokens tokens, CallbackStore callbacks, ApiConfig config, ApiMetrics metrics) {
        this.tokens = tokens;
        this.callbacks = callbacks;
        this.config = config;
        this.metrics = metrics;
    }

    void receive(Context ctx) {
        var parsed = tokens.verify(ctx.pathParam("token"))
                .orElseThrow(() -> ApiException.unauthorized("this callback URL is not one Gaffer issued"));
        JsonNode payload = JsonSupport.readValue(ctx, config.maxBodyBytes());
        long id = parsed.jobId();
        switch (callbacks.receive(id, parsed.nonce(), payload)) {
            case ACCEPTED -> {
                metrics.jobAction("called_back");
                JsonSupport.write(ctx, 202, new Accepted(id, "callback received; job " + id + " runs again with it"));
            }
            case ALREADY_USED -> throw ApiException.gone("this callback URL of job " + id + " was used already");
            case EXPIRED -> throw ApiException.gone("the wait of job " + id + " for this callback has expired");
            case GONE ->
                throw ApiException.gone("job " + id + " no longer waits for this callback (its attempt ended, a"
                        + " newer wait replaced it, or the job was retried or deleted)");
        }
    }
}
