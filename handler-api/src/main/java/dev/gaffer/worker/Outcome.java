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

    /**
     * Stop at {@code gate} for a person's decision (issue 18): the job gives its lease and its
     * attempt back and waits, pending, holding no slot, for as long as it takes. {@code summary}
     * (any JSON, may be null) is what the reviewers look at, e.g. links to the artifacts to judge.
     * An approval resumes the job, on any worker, at {@code resumeStage} ({@link JobContext#stage()});
     * a request for changes runs it again from {@code redoStage}, the stage that produces what was
     * reviewed (null: from the start); a rejection fails it with the reviewer's reason. Only a
     * top-level job may stop at a gate; a sub-job that returns this fails.
     */
    record AwaitReview(String gate, String resumeStage, String redoStage, JsonNode summary) implements Outcome {
        public AwaitReview {
            Objects.requireNonNull(gate, "gate");
            Objects.requireNonNull(resumeStage, "resumeStage");
            if (!dev.gaffer.job.NewJob.NAME.matcher(gate).matches() || gate.equals("plan")) {
                throw new IllegalArgumentException("a gate is a name of 1 to 63 characters a-z, 0-9, _ . -, starting"
                        + " with a letter, and not plan (the review before the first run); got '" + gate + "'");
            }
        }
    }

    /**
     * Wait for an external service (issue 19) without holding a worker: the job gives its lease and
     * its attempt back and waits until the service calls back the URL of {@link
     * JobContext#callbackPath()}, or until the next poll ({@code pollEvery}), or until {@code timeout}
     * after the attempt first waited. Then it runs again, on any worker, at {@code resumeStage}
     * (null: the stage it is at), where {@link JobContext#callback()} has what the service sent, if
     * it called back. Waiting again before the deadline (after a poll that found the work
     * unfinished) keeps the same callback URL and deadline; past the deadline the attempt fails
     * with a retryable error ("no callback within …"), so a retry starts over with a new URL.
     */
    record AwaitCallback(Duration timeout, Duration pollEvery, String resumeStage) implements Outcome {
        public AwaitCallback {
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(pollEvery, "pollEvery");
            if (timeout.isNegative() || timeout.isZero() || pollEvery.isNegative() || pollEvery.isZero()) {
                throw new IllegalArgumentException(
                        "a wait for a callback needs a positive timeout and poll interval, got " + timeout + " and "
                                + pollEvery);
            }
        }
    }

    /** Wait for the callback until {@code timeout}, without polling, at the stage the job is at. */
    static Outcome awaitCallback(Duration timeout) {
        return new AwaitCallback(timeout, timeout, null);
    }

    /** Wait for the callback until {@code timeout}, looking again every {@code pollEvery}, then resume at {@code resumeStage}. */
    static Outcome awaitCallback(Duration timeout, Duration pollEvery, String resumeStage) {
        return new AwaitCallback(timeout, pollEvery, resumeStage);
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

    static Outcome awaitReview(String gate, String resumeStage, JsonNode summary) {
        return new AwaitReview(gate, resumeStage, null, summary);
    }

    static Outcome awaitReview(String gate, String resumeStage, String redoStage, JsonNode summary) {
        return new AwaitReview(gate, resumeStage, redoStage, summary);
    }

    static Outcome waitFor(List<SubJob> subJobs, String fanoutStage, String resumeStage) {
        return new WaitForSubJobs(subJobs, fanoutStage, resumeStage);
    }

    static Outcome waitFor(List<SubJob> subJobs, String fanoutStage, String resumeStage, SubJobFailurePolicy policy) {
        return new WaitForSubJobs(subJobs, fanoutStage, resumeStage, policy);
    }
}
