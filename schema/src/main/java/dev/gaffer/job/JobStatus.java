package dev.gaffer.job;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A job's lifecycle, mirrored by the PostgreSQL enum {@code job_status}. Each constant says what
 * moves a job out of it; every such move is a method of {@link JobStore}.
 */
public enum JobStatus {
    /** Waiting for a person. Leaves by {@link JobStore#approve} or {@link JobStore#cancel}. */
    PENDING,
    /**
     * Claimable once {@code run_at} has passed. Leaves by {@link JobStore#claim} or
     * {@link JobStore#cancel}.
     */
    APPROVED,
    /**
     * Leased by one worker, which heartbeats it. Leaves by {@link JobStore#complete},
     * {@link JobStore#fail} (to approved for a retry, or failed), {@link JobStore#waitForSubJobs},
     * {@link JobStore#release}, {@link JobStore#reclaimExpired}, or {@link JobStore#cancel}.
     */
    PROCESSING,
    /**
     * Its sub-jobs are running. Leaves when the last sub-job reaches a terminal state (back to
     * approved, to resume at its resume stage), or by {@link JobStore#cancel}.
     */
    WAITING,
    /** Terminal. Only pruning removes it. */
    COMPLETED,
    /** Terminal; {@link JobStore#retry} starts it again with a fresh budget of attempts. */
    FAILED,
    /** Terminal; {@link JobStore#retry} starts it again with a fresh budget of attempts. */
    CANCELLED;

    public static final Set<JobStatus> TERMINAL = EnumSet.of(COMPLETED, FAILED, CANCELLED);

    /** The spelling used by PostgreSQL and by the API. */
    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isTerminal() {
        return TERMINAL.contains(this);
    }

    /** Parses the database/API spelling; throws IllegalArgumentException naming the valid ones. */
    public static JobStatus fromDb(String value) {
        for (JobStatus s : values()) {
            if (s.dbName().equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown job status '" + value
                + "'; expected one of pending, approved, processing, waiting, completed, failed, cancelled");
    }
}
