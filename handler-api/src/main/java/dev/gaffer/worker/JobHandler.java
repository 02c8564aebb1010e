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

    /**
     * A job of this type was cancelled while it waited for a callback ({@link
     * Outcome#awaitCallback}), holding no worker: no handler runs to hear of it, so this is called
     * instead, once, on one worker that has this handler, soon after the cancellation. Tell the
     * external service to stop (e.g. cancel the prediction named by {@code job.currentStage()}).
     * Best effort: an exception is logged. Nothing by default.
     */
    default void cancelledWhileWaiting(dev.gaffer.job.Job job) throws Exception {}
}
