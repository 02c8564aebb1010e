package dev.gaffer.worker;

import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import java.time.Duration;
import java.util.List;

/** The worker's {@link JobContext}: one per run, over the run's {@link RunningJob}. */
final class RunContext implements JobContext {

    private final RunningJob running;
    private final JobQueries queries;

    RunContext(RunningJob running, JobQueries queries) {
        this.running = running;
        this.queries = queries;
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
