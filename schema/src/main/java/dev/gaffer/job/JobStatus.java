package dev.gaffer.job;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A job's lifecycle, mirrored by the PostgreSQL enum {@code job_status}. Each constant says what
 * moves a job out of it; every such move is a statement of {@link JobRequests} (people), {@link
 * LeaseStore} and {@link OutcomeStore} (lease holders), {@link ReclaimStore} (maintenance), or the
 * fan-in that those statements splice in ({@link FanIn}).
 */
public enum JobStatus {
    /** Waiting for a person. Leaves by {@link JobRequests#approve} or {@link JobRequests#cancel}. */
    PENDING,
    /**
     * Claimable once {@code run_at} has passed. Leaves by {@link LeaseStore#claim} or
     * {@link JobRequests#cancel}.
     */
    APPROVED,
    /**
     * Leased by one worker, which heartbeats it. Leaves by {@link OutcomeStore#complete},
     * {@link OutcomeStore#fail} (to approved for a retry, or failed), {@link
     * OutcomeStore#waitForSubJobs}, {@link LeaseStore#release}, {@link ReclaimStore#reclaimExpired},
     * {@link ReclaimStore#recoverPredecessors}, or {@link JobRequests#cancel}.
     */
    PROCESSING,
    /**
     * Its sub-jobs are running. Leaves by the <b>resume</b> of {@link FanIn}: when the last
     * sub-job reaches a terminal state, back to approved, to resume at its resume stage (or to
     * failed, under fail_fast, when one of them failed); or by {@link JobRequests#cancel}.
     */
    WAITING,
    /** Terminal. Only pruning removes it ({@link ReclaimStore#pruneFinished}). */
    COMPLETED,
    /** Terminal; {@link JobRequests#retry} starts it again with a fresh budget of attempts. */
    FAILED,
    /** Terminal; {@link JobRequests#retry} starts it again with a fresh budget of attempts. */
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
