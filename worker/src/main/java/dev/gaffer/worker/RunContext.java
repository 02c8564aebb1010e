package dev.gaffer.worker;

import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import java.time.Duration;
import java.util.List;

/** The worker's {@link JobContext}: one per run, over the run's {@link RunningJob}. */
final class RunContext implements JobContext {

    private final RunningJob running;
    private final JobQueries queries;
    private final dev.gaffer.job.CallbackStore callbacks;
    private final dev.gaffer.job.CallbackTokens tokens;

    RunContext(
            RunningJob running,
            JobQueries queries,
            dev.gaffer.job.CallbackStore callbacks,
            dev.gaffer.job.CallbackTokens tokens) {
        this.running = running;
        this.queries = queries;
        this.callbacks = callbacks;
        this.tokens = tokens;
    }

    @Override
    public String callbackToken() {
        var nonce = callbacks
                .issue(running.job.lease())
                .orElseThrow(() -> new IllegalStateException(
                        "job " + running.job.id() + " lost its lease; it cannot ask for a callback"));
        return tokens.token(running.job.id(), nonce);
    }

    @Override
    public java.util.Optional<Callback> callback() {
        return callbacks.received(running.job.lease()).map(c -> new Callback(c.payload(), c.receivedAt()));
    }

    @Override
    public Job job() {
        return running.job;
    }

    @Override
    public Duration timeout() {
        return running.timeout;
    }

    @Override
    public void progress(Integer percentage, String stage) {
        if (percentage != null && (percentage < 0 || percentage > 100)) {
            throw new IllegalArgumentException("progress must be between 0 and 100, got " + percentage);
        }
        running.recordProgress(percentage == null ? null : Math.min(percentage, 99), stage);
    }

    @Override
    public boolean isCancelled() {
        return running.cancelled();
    }

    @Override
    public List<Job> subJobs() {
        return queries.subJobs(job().id());
    }
}
