package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.SubJob;
import dev.gaffer.job.SubJobFailurePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a handler reports when it returns. An exception thrown by a handler counts as a retryable
 * failure (with exponential backoff); {@link Fail} is for errors that retrying cannot fix.
 */
public sealed interface Outcome {

    /** The job is done; {@code result} (any JSON, may be null) becomes the job's result. */
    record Complete(JsonNode result) implements Outcome {}

    /**
     * Try again after {@code delay}. This uses up the attempt: when it was the last one, the job
     * fails with {@code reason}.
     */
    record RetryLater(Duration delay, String reason) implements Outcome {
        public RetryLater {
            Objects.requireNonNull(delay, "delay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("delay must not be negative: " + delay);
            }
            reason = reason == null ? "retry requested by the handler" : reason;
        }
    }

    /** Fail now, without retrying, whatever attempts are left. */
    record Fail(String error) implements Outcome {
        public Fail {
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * Spawn {@code subJobs} and wait for them; when the last one has finished, the job is claimed
     * again and the handler is called with {@link JobContext#stage()} = {@code resumeStage} and
     * the sub-jobs' results in {@link JobContext#subJobs()}. With {@link SubJobFailurePolicy#FAIL_FAST}
     * the first sub-job that fails for good fails this job and cancels the others instead; with
     * {@link SubJobFailurePolicy#WAIT_ALL} (the default) the handler sees the failures and decides.
     */
    record WaitForSubJobs(List<SubJob> subJobs, String fanoutStage, String resumeStage, SubJobFailurePolicy policy)
            implements Outcome {
        public WaitForSubJobs {
            subJobs = List.copyOf(subJobs);
            Objects.requireNonNull(resumeStage, "resumeStage");
            policy = policy == null ? SubJobFailurePolicy.WAIT_ALL : policy;
        }

        public WaitForSubJobs(List<SubJob> subJobs, String fanoutStage, String resumeStage) {
            this(subJobs, fanoutStage, resumeStage, SubJobFailurePolicy.WAIT_ALL);
        }
    }

    static Outcome complete(JsonNode result) {
        return new Complete(result);
    }

    static Outcome retryLater(Duration delay, String reason) {
        return new RetryLater(delay, reason);
    }

    static Outcome fail(String error) {
        return new Fail(error);
    }

    static Outcome waitFor(List<SubJob> subJobs, String fanoutStage, String resumeStage) {
        return new WaitForSubJobs(subJobs, fanoutStage, resumeStage);
    }

    static Outcome waitFor(List<SubJob> subJobs, String fanoutStage, String resumeStage, SubJobFailurePolicy policy) {
        return new WaitForSubJobs(subJobs, fanoutStage, resumeStage, policy);
    }
}
