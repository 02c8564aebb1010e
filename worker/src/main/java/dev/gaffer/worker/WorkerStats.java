package dev.gaffer.worker;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of what this worker did since start; for logs, tests and measurements. */
public final class WorkerStats {

    final AtomicLong claimStatements = new AtomicLong();
    final AtomicLong claimed = new AtomicLong();
    // Of the claimed: jobs taken by their id on the LISTEN connection that announced them.
    final AtomicLong pickedUp = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong waiting = new AtomicLong();
    final AtomicLong awaitingReview = new AtomicLong();
    final AtomicLong awaitingCallback = new AtomicLong();
    final AtomicLong discarded = new AtomicLong();
    final AtomicLong released = new AtomicLong();
    final AtomicLong leasesLost = new AtomicLong();
    final AtomicLong timedOut = new AtomicLong();
    final AtomicLong heartbeats = new AtomicLong();
    // The claim loop's time in its statements (and reading their rows), and in starting the jobs
    // they claimed: where a round's time goes.
    final AtomicLong roundStatementNanos = new AtomicLong();
    final AtomicLong roundStartNanos = new AtomicLong();

    /** A copy of the counters at one moment. */
    public record Snapshot(
            long claimStatements,
            long claimed,
            long completed,
            long retried,
            long failed,
            long waiting,
            long discarded,
            long released,
            long leasesLost,
            long timedOut,
            long heartbeats,
            long roundStatementNanos,
            long roundStartNanos,
            long awaitingReview,
            long awaitingCallback,
            long pickedUp) {}

    public Snapshot snapshot() {
        return new Snapshot(
                claimStatements.get(),
                claimed.get(),
                completed.get(),
                retried.get(),
                failed.get(),
                waiting.get(),
                discarded.get(),
                released.get(),
                leasesLost.get(),
                timedOut.get(),
                heartbeats.get(),
                roundStatementNanos.get(),
                roundStartNanos.get(),
                awaitingReview.get(),
                awaitingCallback.get(),
                pickedUp.get());
    }
}
