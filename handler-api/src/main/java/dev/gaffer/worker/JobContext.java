package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.Job;
import dev.gaffer.job.SubJob;
import java.time.Duration;
import java.util.List;

/**
 * What a handler sees of its job and of the worker. Progress is recorded here and written with
 * the worker's next heartbeat (one batched statement for all of its jobs), so calling
 * {@link #progress} often is cheap; what the API shows is at most one heartbeat interval old.
 *
 * <p>The worker passes its own implementation; a handler's unit test may pass any other.
 */
public interface JobContext {

    /** The job's id. */
    default long jobId() {
        return job().id();
    }

    /** The job's type. */
    default String type() {
        return job().type();
    }

    /** The queue it was claimed from. */
    default String queue() {
        return job().queue();
    }

    /** The job's parameters (a JSON object, never null). */
    default JsonNode parameters() {
        return job().parameters();
    }

    /** The storyboard the approver reviewed, or null. */
    default JsonNode storyboard() {
        return job().storyboard();
    }

    /** 1 on the first run; counts the claims of the current budget of attempts. */
    default int attempt() {
        return job().attempt();
    }

    /** How many runs the current budget allows. */
    default int maxAttempts() {
        return job().maxAttempts();
    }

    /**
     * The job's current stage when it was claimed: null on a first run, the resume stage when the
     * job comes back after its sub-jobs finished or a reviewer approved its gate, the redo stage
     * when a reviewer asked for changes at a gate ({@link Outcome.AwaitReview}).
     */
    default String stage() {
        return job().currentStage();
    }

    /** The whole row as claimed. */
    Job job();

    /** How long this run may take before it is interrupted and failed as retryable. */
    Duration timeout();

    /**
     * Records progress (0–100) and stage; written with the next heartbeat. Either may be null.
     * 100 % means completed, so until the handler's outcome completes the job, 100 is shown as 99.
     * Throws IllegalArgumentException for a percentage outside 0–100.
     */
    void progress(Integer percentage, String stage);

    /** Records progress (0–100) without changing the stage. */
    default void progress(int percentage) {
        progress(percentage, null);
    }

    /**
     * True once this run should stop: its lease was lost (reclaimed or cancelled), it timed out,
     * or the worker is shutting down. The handler's thread has been interrupted as well.
     */
    boolean isCancelled();

    /** Throws {@link InterruptedException} if the run was cancelled; for loops that do not block. */
    default void throwIfCancelled() throws InterruptedException {
        if (isCancelled() || Thread.currentThread().isInterrupted()) {
            throw new InterruptedException("job " + jobId() + " was cancelled");
        }
    }

    /** The sub-jobs spawned so far (all waves), with their status, result and last error. */
    List<Job> subJobs();

    /** The gate the job last stopped at ({@code plan} until it stops at one), as it was claimed. */
    default String reviewGate() {
        return job().reviewGate();
    }

    /** Shorthand for returning {@link Outcome.WaitForSubJobs}. */
    default Outcome spawnAndWait(List<SubJob> subJobs, String fanoutStage, String resumeStage) {
        return Outcome.waitFor(subJobs, fanoutStage, resumeStage);
    }

    /** What an external service sent to the job's callback URL, and when. */
    record Callback(JsonNode payload, java.time.Instant receivedAt) {}

    /**
     * The token of this attempt's callback URL (issue 19): the same until the service calls back,
     * a new one for the next wait. Signed, single-use, good only for this attempt and until the
     * wait's deadline. Hand {@link #callbackPath()}, under the API's public address, to the
     * service, then return {@link Outcome#awaitCallback}.
     */
    default String callbackToken() {
        throw new UnsupportedOperationException(
                "callback URLs are issued by a Gaffer worker's context; this one (a test double?) has none");
    }

    /** {@code /api/v3/callbacks/{token}}: where the service POSTs (JSON) when the work is done. */
    default String callbackPath() {
        return "/api/v3/callbacks/" + callbackToken();
    }

    /** What the service sent, when this attempt was called back; empty before, or after a poll alone. */
    default java.util.Optional<Callback> callback() {
        return java.util.Optional.empty();
    }
}
