package dev.gaffer.worker;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The claim loop's alarm clock: it sleeps until a signal (a NOTIFY hint for one of its queues, a
 * freed slot, a re-established LISTEN connection) or the poll interval, whichever comes first. A
 * signal given while the loop was busy is kept, so no wake-up is lost between a claim and the
 * next sleep. One thread waits (the claim loop); any thread signals.
 *
 * <p>A flag and park/unpark rather than a monitor: every finished handler signals, from as many
 * threads as there are slots, and a signal while the flag is already up costs one atomic read.
 */
final class Wakeup {

    private final AtomicBoolean signalled = new AtomicBoolean();
    private volatile Thread waiter;

    void signal() {
        if (!signalled.get() && !signalled.getAndSet(true)) {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /** Returns true when woken by a signal, false when the timeout passed. */
    boolean await(Duration timeout) throws InterruptedException {
        waiter = Thread.currentThread();
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!signalled.compareAndSet(true, false)) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
            }
            return true;
        } finally {
            waiter = null;
        }
    }
}
