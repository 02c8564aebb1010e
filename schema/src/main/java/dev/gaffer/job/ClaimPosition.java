package dev.gaffer.job;

import java.time.Instant;
import java.util.Objects;

/**
 * A place in one queue's claim order (priority descending, then run_at, then id): the key of the
 * last job a worker claimed there. The worker's next claim in that queue starts after it instead
 * of at the head of the queue, where the index entries of every job claimed since the last vacuum
 * lie dead (see {@link LeaseStore#claim(String, java.util.List, java.util.List, java.util.Collection,
 * int, java.util.Collection, java.time.Duration)}).
 */
public record ClaimPosition(int priority, Instant runAt, long id) {

    public ClaimPosition {
        Objects.requireNonNull(runAt, "runAt");
    }

    /** The position of {@code job}: a claim from here returns only jobs after it. */
    public static ClaimPosition of(Job job) {
        return new ClaimPosition(job.priority(), job.runAt(), job.id());
    }
}
