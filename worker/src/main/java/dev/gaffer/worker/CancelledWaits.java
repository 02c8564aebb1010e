package dev.gaffer.worker;

import dev.gaffer.job.CallbackStore;
import dev.gaffer.job.Job;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells handlers of the jobs that were cancelled while they waited for a callback (issue 19): such
 * a job holds no worker, so no handler is interrupted; every {@code interval} this worker takes the
 * waits of cancelled jobs of the types it runs ({@link CallbackStore#takeCancelled}, each by one
 * worker only) and calls {@link JobHandler#cancelledWhileWaiting} for each, e.g. to cancel a
 * prediction at an external service.
 */
final class CancelledWaits implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CancelledWaits.class);
    private static final int BATCH = 100;

    private final CallbackStore callbacks;
    private final HandlerRegistry registry;
    private final Duration interval;
    private final Thread thread;
    private volatile boolean stopped;

    CancelledWaits(CallbackStore callbacks, HandlerRegistry registry, Duration interval, String workerId) {
        this.callbacks = callbacks;
        this.registry = registry;
        this.interval = interval;
        this.thread =
                Thread.ofVirtual().name("gaffer-cancelled-waits-" + workerId).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** One pass: the number of cancelled waits whose handlers were told. */
    int runOnce() {
        int told = 0;
        for (Job job : callbacks.takeCancelled(listening(), BATCH)) {
            JobHandler handler = registry.get(job.type());
            try {
                handler.cancelledWhileWaiting(job);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                log.warn(
                        "job {} was cancelled while it waited for a callback; its handler failed to hear of it",
                        job.id(),
                        e);
            }
            told++;
        }
        return told;
    }

    /**
     * The types whose handlers want to hear of a cancelled wait (they override {@link
     * JobHandler#cancelledWhileWaiting}). A worker with none never asks the database, and never
     * takes a wait that another worker's handler should hear of.
     */
    private java.util.Set<String> listening() {
        java.util.Set<String> types = new java.util.TreeSet<>();
        for (String type : registry.types()) {
            try {
                if (registry.get(type)
                                .getClass()
                                .getMethod("cancelledWhileWaiting", Job.class)
                                .getDeclaringClass()
                        != JobHandler.class) {
                    types.add(type);
                }
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException("JobHandler.cancelledWhileWaiting is public", e);
            }
        }
        return types;
    }

    private void run() {
        while (!stopped) {
            try {
                Thread.sleep(interval);
                runOnce();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("could not look for jobs cancelled while waiting for a callback: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}
