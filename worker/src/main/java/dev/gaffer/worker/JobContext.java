package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.SubJob;
import java.time.Duration;
import java.util.List;

/**
 * What a handler sees of its job and of the worker. Progress is recorded here and written with
 * the worker's next heartbeat (one batched statement for all of its jobs), so calling
 * {@link #progress} often is cheap; what the API shows is at most one heartbeat interval old.
 */
public final class JobContext {

    private final RunningJob running;
    private final JobQueries queries;

    JobContext(RunningJob running, JobQueries queries) {
        this.running = running;
        this.queries = queries;
    }

    public long jobId() {
        return running.job.id();
    }

    public String type() {
        return running.job.type();
    }

    public String queue() {
        return running.job.queue();
    }

    /** The job's parameters (a JSON object, never null). */
    public JsonNode parameters() {
        return running.job.parameters();
    }

    /** The storyboard the approver reviewed, or null. */
    public JsonNode storyboard() {
        return running.job.storyboard();
    }

    /** 1 on the first run; counts the claims of the current budget of attempts. */
    public int attempt() {
        return running.job.attempt();
    }

    public int maxAttempts() {
        return running.job.maxAttempts();
    }

    /**
     * The job's current stage when it was claimed: null on a first run, the resume stage when the
     * job comes back after its sub-jobs finished.
     */
    public String stage() {
        return running.job.currentStage();
    }

    /** The whole row as claimed. */
    public Job job() {
        return running.job;
    }

    /** How long this run may take before it is interrupted and failed as retryable. */
    public Duration timeout() {
        return running.timeout;
    }

    /**
     * Records progress (0–100) and stage; written with the next heartbeat. Either may be null.
     * 100 % means completed, so until the handler's outcome completes the job, 100 is shown as 99.
     */
    public void progress(Integer percentage, String stage) {
        if (percentage != null && (percentage < 0 || percentage > 100)) {
            throw new IllegalArgumentException("progress must be between 0 and 100, got " + percentage);
        }
        running.recordProgress(percentage == null ? null : Math.min(percentage, 99), stage);
    }

    public void progress(int percentage) {
        progress(percentage, null);
    }

    /**
     * True once this run should stop: its lease was lost (reclaimed or cancelled), it timed out,
     * or the worker is shutting down. The handler's thread has been interrupted as well.
     */
    public boolean isCancelled() {
        return running.cancelled();
    }

    /** Throws {@link InterruptedException} if the run was cancelled; for loops that do not block. */
    public void throwIfCancelled() throws InterruptedException {
        if (isCancelled() || Thread.currentThread().isInterrupted()) {
            throw new InterruptedException("job " + jobId() + " was cancelled");
        }
    }

    /** The sub-jobs spawned so far (all waves), with their status, result and last error. */
    public List<Job> subJobs() {
        return queries.subJobs(jobId());
    }

    /** Shorthand for returning {@link Outcome.WaitForSubJobs}. */
    public Outcome spawnAndWait(List<SubJob> subJobs, String fanoutStage, String resumeStage) {
        return Outcome.waitFor(subJobs, fanoutStage, resumeStage);
    }
}
