package dev.gaffer.job;

/**
 * What a worker holds while it runs a job, and what fences every write it makes: a write
 * changes the row only while the row still has this id, attempt and lock holder and is
 * processing. After a reclaim or a cancel, all writes with an old lease change nothing.
 */
public record Lease(long jobId, int attempt, String workerId) {

    /** Throws when this lease is not {@code workerId}'s: a worker writes only its own leases. */
    public void requireHeldBy(String workerId) {
        if (!this.workerId.equals(workerId)) {
            throw new IllegalArgumentException("lease of job " + jobId + " belongs to " + this.workerId);
        }
    }
}
