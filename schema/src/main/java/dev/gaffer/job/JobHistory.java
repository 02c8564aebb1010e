package dev.gaffer.job;

/**
 * How every transition records itself: one {@code job_events} row per changed job and a NOTIFY
 * hint, in the statement that makes the change, so that the change, its history and its
 * announcement commit together or not at all. A completion is the exception: its entry is
 * written into the job's own row ({@link #COMPLETION}); the view {@code job_history} shows both. The transitions of {@link JobRequests}, {@link
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
     * top-level job (progress with a heartbeat; completions, which are kept in the job's row and
     * are not a change of {@link #RECORD} at all, are not announced either). A NOTIFY makes its
     * transaction take a cluster-wide lock from before its commit until after it (PostgreSQL's
     * async.c serializes the commits of all notifying transactions so that the notification queue
     * is in commit order), so the completion batches of every worker and the claims queued behind
     * one another's WAL flushes. Found with the burn-down benchmark (docs/benchmarks.md, issue 16).
     * Nothing waits for these hints: workers wake only for jobs that became claimable, and the
     * API's live streams read job_history on a short timer while a client is connected. A sub-job's
     * completion still announces what it does to its parent (resumed, failed, cancelled).
     */
    static final String UNANNOUNCED = "('progress')";

    /**
     * Appends one job_events row per row of the statement's {@code changes} CTE (its columns:
     * id, queue, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
     * attempt_started_at, event_id) and sends one NOTIFY per distinct hint, except for the {@link
     * #UNANNOUNCED} kinds. Hints of jobs that are approved after the change go to {@link
     * #CHANNEL}, the others to {@link #EVENTS_CHANNEL}. {@code notified} is a plain SELECT, which
     * PostgreSQL runs only when referenced: every statement's final SELECT reads {@code (SELECT
     * count(*) FROM notified)}.
     *
     * <p>{@code event_id} is NULL except for the event that finishes a job (failed, cancelled):
     * the statement took that id from the events' sequence into {@code jobs.finished_event_id}
     * when it set the status, and the event is written under it. A completion is not a change
     * here: it is kept in the job's own row ({@link #COMPLETION}).
     */
    static final String RECORD = """
            events AS (
                INSERT INTO job_events (id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage,
                                        message, attempt_started_at)
                OVERRIDING SYSTEM VALUE
                SELECT COALESCE(event_id, nextval('job_events_id_seq')), id, kind, status, attempt, worker_id, actor,
                       progress_percentage, stage, message, attempt_started_at
                  FROM changes
                RETURNING id),
            notified AS (
                SELECT pg_notify(CASE WHEN h.approved THEN '%s' ELSE '%s' END,
                                 json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
                  FROM (SELECT DISTINCT kind, status = 'approved' AS approved, id, queue
                          FROM changes
                         WHERE kind NOT IN %s) h)""".formatted(CHANNEL, EVENTS_CHANNEL, UNANNOUNCED);

    /**
     * The columns a completion sets besides status, result and progress, for the {@code SET}
     * list of an {@code UPDATE jobs} whose worker is {@code %s} (a SQL expression): the
     * completion's history entry lives in the job's row (V011; the view {@code job_history} shows
     * it as an event): who ran the attempt, when it ended, and its event id, from the sequence of
     * job_events so that it takes its place among the job's other events and in the live feed.
     * The attempt's start is already in {@code claimed_at}. No job_events row, no NOTIFY.
     */
    static final String COMPLETION =
            "completed_by = %s, finished_at = now(), finished_event_id = nextval('job_events_id_seq')";

    private JobHistory() {}
}
