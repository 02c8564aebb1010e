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
     * The channel of every other hint (created pending, claimed, progress, waiting, completed,
     * failed, cancelled): for live views such as the API's event streams. Same payload. Kept apart
     * so that the claims, progress and completions of a busy cluster do not wake every worker's
     * LISTEN connection for hints it would only parse and drop.
     */
    public static final String EVENTS_CHANNEL = "gaffer_events";

    /**
     * Appends one job_events row per row of the statement's {@code changes} CTE and sends one
     * NOTIFY per distinct hint. Claims, heartbeats and batched completions touch many jobs at once:
     * their hints leave the id out, so that a batch of them is one hint (made distinct here, before
     * any JSON is built). No receiver needs the id of a completion: workers wake only for claimable
     * events and the API's live streams re-read job_events after their cursor. Measured in
     * docs/benchmarks.md: one distinct notification per completed job cost the listeners a JSON
     * hint each at thousands per second. Hints of jobs that are approved after the change go to
     * {@link #CHANNEL}, the others to {@link #EVENTS_CHANNEL}.
     * {@code notified} is a plain SELECT, which PostgreSQL runs only when referenced: every
     * statement's final SELECT reads {@code (SELECT count(*) FROM notified)}.
     */
    static final String RECORD = """
            events AS (
                INSERT INTO job_events (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message)
                SELECT id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message FROM changes
                RETURNING id),
            notified AS (
                SELECT pg_notify(CASE WHEN h.approved THEN '%s' ELSE '%s' END,
                                 json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
                  FROM (SELECT DISTINCT kind, status = 'approved' AS approved,
                               CASE WHEN kind IN ('claimed', 'progress', 'completed') THEN NULL ELSE id END AS id,
                               queue
                          FROM changes) h)""".formatted(CHANNEL, EVENTS_CHANNEL);

    private JobHistory() {}
}
