package dev.gaffer.job;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A job's lifecycle, mirrored by the PostgreSQL enum {@code job_status}. Each constant says what
 * moves a job out of it; every such move is a statement of {@code JobRequests} (people), {@code
 * LeaseStore} and {@code OutcomeStore} (lease holders), {@code ReclaimStore} (maintenance), or the
 * fan-in that those statements splice in ({@code FanIn}).
 */
public enum JobStatus {
    /**
     * Waiting for a person. Leaves by {@code JobRequests.approve}, {@code JobRequests.reject} or
     * {@code JobRequests.cancel}; a request for changes and a revision of its storyboard keep it
     * here.
     */
    PENDING,
    /**
     * Claimable once {@code run_at} has passed. Leaves by {@code LeaseStore.claim} or
     * {@code JobRequests.cancel}.
     */
    APPROVED,
    /**
     * Leased by one worker, which heartbeats it. Leaves by {@code OutcomeStore.complete},
     * {@code OutcomeStore.fail} (to approved for a retry, or failed), {@code
     * OutcomeStore.waitForSubJobs}, {@code LeaseStore.release}, {@code ReclaimStore.reclaimExpired},
     * {@code ReclaimStore.recoverPredecessors}, or {@code JobRequests.cancel}.
     */
    PROCESSING,
    /**
     * Its sub-jobs are running. Leaves by the <b>resume</b> of {@code FanIn}: when the last
     * sub-job reaches a terminal state, back to approved, to resume at its resume stage (or to
     * failed, under fail_fast, when one of them failed); or by {@code JobRequests.cancel}.
     */
    WAITING,
    /** Terminal. Only pruning removes it ({@code ReclaimStore.pruneFinished}). */
    COMPLETED,
    /** Terminal; {@code JobRequests.retry} starts it again with a fresh budget of attempts. */
    FAILED,
    /** Terminal; {@code JobRequests.retry} starts it again with a fresh budget of attempts. */
    CANCELLED,
    /**
     * Terminal: a reviewer turned its plan down ({@code JobRequests.reject}), with a reason in
     * {@code job_reviews}. Never retried: that would run a plan a person said no to.
     */
    REJECTED;

    public static final Set<JobStatus> TERMINAL = EnumSet.of(COMPLETED, FAILED, CANCELLED, REJECTED);

    // Spelled once: every job row read and every response written asks for it.
    private final String dbName = name().toLowerCase(Locale.ROOT);

    /** The spelling used by PostgreSQL and by the API. */
    public String dbName() {
        return dbName;
    }

    public boolean isTerminal() {
        return TERMINAL.contains(this);
    }

    private static final JobStatus[] VALUES = values();

    /** Parses the database/API spelling; throws IllegalArgumentException naming the valid ones. */
    public static JobStatus fromDb(String value) {
        for (JobStatus s : VALUES) {
            if (s.dbName.equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown job status '" + value
                + "'; expected one of pending, approved, processing, waiting, completed, failed, cancelled, rejected");
    }
}
