package dev.gaffer.worker;

/**
 * Users' code for one job type. Called on a virtual thread of its own, once per claim of a job.
 *
 * <p>A handler must honour interruption: when the job's lease is lost (reclaimed, cancelled),
 * its timeout passes, or the worker shuts down, the thread is interrupted and
 * {@link JobContext#isCancelled()} turns true; whatever the handler returns afterwards is
 * discarded. Handlers must be safe to run again: a job whose worker died runs once more.
 */
@FunctionalInterface
public interface JobHandler {

    /** Runs the job; a thrown exception is a retryable failure. */
    Outcome handle(JobContext ctx) throws Exception;
}
