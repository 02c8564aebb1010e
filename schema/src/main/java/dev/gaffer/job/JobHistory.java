package dev.gaffer.job;

/**
 * How every transition records itself: one {@code job_events} row per changed job and a NOTIFY
 * hint, in the statement that makes the change, so that the change, its history and its
 * announcement commit together or not at all. The transitions of {@link JobRequests}, {@link
 * LeaseStore}, {@link OutcomeStore} and {@link ReclaimStore} end with {@link #RECORD}.
 */
public final class JobHistory {

    /**
     * The channel of hints that a job is approved now (approved, retried, resumed, reclaimed,
     * released, or created approved as a sub-job): the one workers LISTEN on. Payload: {@code
     * {"event":…,"id":…,"queue":…}}.
     */
    public static final String CHANNEL = "gaffer_jobs";

    /**
     * The channel of every other hint (created pending, waiting, failed, cancelled; not the
     * {@link #UNANNOUNCED} kinds): for live views such as the API's event streams. Same payload.
     * Kept apart so that the events of a busy cluster do not wake every worker's LISTEN
     * connection for hints it would only parse and drop.
     */
    public static final String EVENTS_CHANNEL = "gaffer_events";

    /**
     * The kinds that are recorded but not announced: the worker's own high-volume transitions of a
     * top-level job (a batch of completions, progress with a heartbeat). A NOTIFY makes its
     * transaction take a cluster-wide lock from before its commit until after it (PostgreSQL's
     * async.c serializes the commits of all notifying transactions so that the notification queue
     * is in commit order), so the completion batches of every worker and the claims queued behind
     * one another's WAL flushes. Found with the burn-down benchmark (docs/benchmarks.md, issue 16).
     * Nothing waits for these hints: workers wake only for jobs that became claimable, and the
     * API's live streams read job_events on a short timer while a client is connected. A sub-job's
     * completion still announces what it does to its parent (resumed, failed, cancelled).
     */
    static final String UNANNOUNCED = "('progress', 'completed')";

    /**
     * As {@link #RECORD} for a statement whose changes are all of {@link #UNANNOUNCED} kinds (a
     * round's completions): the job_events rows only. The statement is spared the {@code notified}
     * CTE, which would read every change only to find nothing to announce (about a microsecond per
     * job of a round, docs/benchmarks.md). Nothing needs to reference {@code events}: PostgreSQL
     * runs a data-modifying CTE to completion whether or not it is read.
     */
    static final String RECORD_UNANNOUNCED = """
            events AS (
                INSERT INTO job_events (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
                                        attempt_started_at)
                SELECT id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message, attempt_started_at
                  FROM changes
                RETURNING id)""";

    /**
     * Appends one job_events row per row of the statement's {@code changes} CTE (its columns:
     * id, queue, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
     * attempt_started_at) and sends one NOTIFY per distinct hint, except for the {@link
     * #UNANNOUNCED} kinds. Hints of jobs that are approved after the change go to {@link
     * #CHANNEL}, the others to {@link #EVENTS_CHANNEL}. {@code notified} is a plain SELECT, which
     * PostgreSQL runs only when referenced: every statement's final SELECT reads {@code (SELECT
     * count(*) FROM notified)}.
     */
    static final String RECORD = RECORD_UNANNOUNCED + ",\n" + """
            notified AS (
                SELECT pg_notify(CASE WHEN h.approved THEN '%s' ELSE '%s' END,
                                 json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
                  FROM (SELECT DISTINCT kind, status = 'approved' AS approved, id, queue
                          FROM changes
                         WHERE kind NOT IN %s) h)""".formatted(CHANNEL, EVENTS_CHANNEL, UNANNOUNCED);

    private JobHistory() {}
}
