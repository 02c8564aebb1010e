package dev.gaffer.worker;

import dev.gaffer.job.Job;
import dev.gaffer.job.Lease;
import dev.gaffer.job.LeaseStore.Beat;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One job this worker holds: its lease, the handler's thread, the progress not yet written, and
 * where it stands. The state decides who may write the job's outcome: the handler's thread
 * writes it only if it moves the job from RUNNING (or TIMED_OUT) to FINISHING first, so that a
 * lease lost or released in the meantime is never written over.
 */
final class RunningJob {

    enum State {
        /** Claimed ahead (prefetched): the lease is held and beaten for, the handler not started yet. */
        QUEUED,
        /** The handler runs and the lease is held. */
        RUNNING,
        /** The handler ran past its timeout and was interrupted; its thread writes a retryable failure. */
        TIMED_OUT,
        /** The handler returned; its outcome is being written (fenced), by its thread or in the next round. */
        FINISHING,
        /** The lease is gone (reclaimed, cancelled): the handler was interrupted, its outcome is discarded. */
        LOST,
        /** Shutdown gave the lease back: the handler was interrupted, its outcome is discarded. */
        RELEASED
    }

    final Job job;
    final Lease lease;
    final Duration timeout;
    // The job was claimed again while this run held its place: its lease is gone, whether the
    // heartbeat knows it yet or not. Kept out of this worker's claims until the run ends.
    volatile boolean claimedAgain;
    // Set when the handler starts (begin), read by the heartbeat.
    volatile long startedNanos;
    volatile long deadlineNanos;
    private final AtomicReference<State> state;
    private volatile Thread thread;

    // Progress reported since the last beat; guarded by this.
    private Integer unflushedProgress;
    private String unflushedStage;

    /** A job whose handler starts now. */
    RunningJob(Job job, Duration timeout) {
        this(job, timeout, State.RUNNING);
        begin();
    }

    // When it was claimed (System.nanoTime()): how long a job claimed ahead has waited for a slot.
    final long claimedNanos = System.nanoTime();

    /** A job in {@code initial} state: {@link State#QUEUED} until {@link #start()}. */
    RunningJob(Job job, Duration timeout, State initial) {
        this.job = job;
        this.lease = job.lease();
        this.timeout = timeout;
        this.state = new AtomicReference<>(initial);
    }

    /** QUEUED → RUNNING, with the timeout counted from now; false when the lease went meanwhile. */
    boolean start() {
        if (!state.compareAndSet(State.QUEUED, State.RUNNING)) {
            return false;
        }
        begin();
        return true;
    }

    private void begin() {
        startedNanos = System.nanoTime();
        deadlineNanos = startedNanos + timeout.toNanos();
    }

    long id() {
        return job.id();
    }

    State state() {
        return state.get();
    }

    boolean move(State from, State to) {
        return state.compareAndSet(from, to);
    }

    /** True once the handler should stop: lease lost, timed out or released. */
    boolean cancelled() {
        State s = state.get();
        return s == State.LOST || s == State.TIMED_OUT || s == State.RELEASED;
    }

    void attach(Thread t) {
        this.thread = t;
    }

    /**
     * Moves to {@code to} from any state in which the handler is still running, and interrupts it;
     * a queued job (no handler yet) moves to LOST or RELEASED and never starts.
     */
    boolean stop(State to) {
        while (true) {
            State s = state.get();
            if (s == State.QUEUED) {
                if (to != State.TIMED_OUT && state.compareAndSet(s, to)) {
                    return true;
                }
                if (to == State.TIMED_OUT) {
                    return false;
                }
                continue;
            }
            if (s != State.RUNNING && s != State.TIMED_OUT) {
                return false;
            }
            if (s == State.TIMED_OUT && to == State.TIMED_OUT) {
                return false;
            }
            if (s == State.TIMED_OUT && to == State.LOST && thread != null && !thread.isAlive()) {
                return false;
            }
            if (state.compareAndSet(s, to)) {
                Thread t = thread;
                if (t != null) {
                    t.interrupt();
                }
                return true;
            }
        }
    }

    synchronized void recordProgress(Integer percentage, String stage) {
        if (percentage != null) {
            unflushedProgress = percentage;
        }
        if (stage != null) {
            unflushedStage = stage;
        }
    }

    /** The beat for this job, taking the unflushed progress with it. */
    synchronized Beat drainBeat() {
        Beat b = new Beat(lease, unflushedProgress, unflushedStage);
        unflushedProgress = null;
        unflushedStage = null;
        return b;
    }

    /** Puts back progress of a beat that did not reach the database, unless newer progress came since. */
    synchronized void restore(Beat b) {
        if (unflushedProgress == null) {
            unflushedProgress = b.progressPercentage();
        }
        if (unflushedStage == null) {
            unflushedStage = b.stage();
        }
    }
}
