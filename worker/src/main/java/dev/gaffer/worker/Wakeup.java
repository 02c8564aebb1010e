package dev.gaffer.worker;

import java.time.Duration;

/**
 * The claim loop's alarm clock: it sleeps until a signal (a NOTIFY hint for one of its queues, a
 * freed slot, a re-established LISTEN connection) or the poll interval, whichever comes first. A
 * signal given while the loop was busy is kept, so no wake-up is lost between a claim and the
 * next sleep.
 */
final class Wakeup {

    private boolean signalled;

    synchronized void signal() {
        signalled = true;
        notifyAll();
    }

    /** Returns true when woken by a signal, false when the timeout passed. */
    synchronized boolean await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!signalled) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        signalled = false;
        return true;
    }
}
