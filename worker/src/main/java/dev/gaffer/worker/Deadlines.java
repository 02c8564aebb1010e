package dev.gaffer.worker;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The timeouts of the running handlers: one thread that sleeps until the earliest deadline among
 * them, then hands every run past its deadline to {@code timedOut} and sleeps until the next one.
 * A handler that starts with a deadline earlier than the planned wake-up wakes it; one with a later
 * deadline (the usual case: every job of a type has the same timeout) costs one atomic read.
 *
 * <p>It replaces a timer task per run in a scheduled executor, whose schedule and cancel took a lock
 * and reordered a heap for every job (found with a profile of the burn-down, docs/benchmarks.md).
 * Deadlines stay exact: the thread parks until the nanosecond, however short a job's timeout_ms.
 */
final class Deadlines implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deadlines.class);

    /** The longest sleep with nothing running (a handler that starts wakes it). */
    static final Duration IDLE = Duration.ofHours(1);

    private final Collection<RunningJob> running;
    private final Consumer<RunningJob> timedOut;
    private final Thread thread;
    private final AtomicLong plannedWake = new AtomicLong();
    private volatile boolean stopped;

    /** {@code running}: a live view of the worker's jobs; {@code timedOut}: called once per run past its deadline. */
    Deadlines(String workerId, Collection<RunningJob> running, Consumer<RunningJob> timedOut) {
        this.running = running;
        this.timedOut = timedOut;
        this.thread =
                Thread.ofPlatform().daemon().name("gaffer-timeouts-" + workerId).unstarted(this::run);
        plannedWake.set(System.nanoTime() + IDLE.toNanos());
    }

    void start() {
        thread.start();
    }

    /** A handler started (its deadline set): wake the thread if this deadline comes first. */
    void started(RunningJob rj) {
        if (rj.deadlineNanos - plannedWake.get() < 0) {
            LockSupport.unpark(thread);
        }
    }

    /** Every run past its deadline goes to {@code timedOut}; returns when the next deadline is due. */
    long runOnce() {
        long now = System.nanoTime();
        long next = now + IDLE.toNanos();
        for (RunningJob rj : running) {
            if (rj.state() != RunningJob.State.RUNNING) {
                continue;
            }
            long deadline = rj.deadlineNanos;
            if (now - deadline >= 0) {
                timedOut.accept(rj);
            } else if (deadline - next < 0) {
                next = deadline;
            }
        }
        return next;
    }

    private void run() {
        while (!stopped) {
            try {
                // While scanning the plan is "never": a run that starts meanwhile, which the scan
                // may miss, wakes the park below at once (an unpark before a park counts) and is
                // found by the next scan.
                plannedWake.set(System.nanoTime() + Long.MAX_VALUE / 2);
                long next = runOnce();
                plannedWake.set(next);
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    LockSupport.parkNanos(this, sleep);
                }
            } catch (RuntimeException e) {
                log.error("timeout check failed; checking again in a second", e);
                LockSupport.parkNanos(this, Duration.ofSeconds(1).toNanos());
            }
        }
    }

    @Override
    public void close() {
        stopped = true;
        LockSupport.unpark(thread);
    }
}
