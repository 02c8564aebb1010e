package dev.gaffer.job;

import dev.gaffer.db.DatabaseException;
import dev.gaffer.db.Sql;
import dev.gaffer.job.Results.AlreadyExists;
import dev.gaffer.job.Results.CreateResult;
import dev.gaffer.job.Results.Created;
import dev.gaffer.job.Results.Fenced;
import dev.gaffer.job.Results.HeartbeatResult;
import dev.gaffer.job.Results.IdempotencyConflict;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.NotFound;
import dev.gaffer.job.Results.ReclaimResult;
import dev.gaffer.job.Results.SpawnLeaseLost;
import dev.gaffer.job.Results.SpawnResult;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Transition;
import dev.gaffer.job.Results.Written;
import dev.gaffer.job.Results.WrongState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongConsumer;
import javax.sql.DataSource;

/**
 * The SQL of every job transition, and nothing else writes jobs.
 *
 * <p>Each transition is one statement: a chain of CTEs that changes the rows, appends their
 * {@code job_events} and sends the NOTIFY hints, so that the change, its history and its
 * announcement commit together or not at all. Each names the state it expects; when the row is in
 * another state the caller gets a typed answer ({@link Results}), never a silent success.
 *
 * <p>Every write a worker makes is fenced by {@code (id, attempt, locked_by, status =
 * 'processing')}: once a job was reclaimed, cancelled or finished, the old holder's writes match no
 * row. Lease time is the database clock ({@code now()}) on both sides.
 */
public final class JobStore {

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
     * A waiting job's progress is the finished share of its sub-jobs scaled to this, so that it
     * never shows 100 % before it completed: what it does after it resumes (the video's stitch)
     * reports the rest. 100 % means completed (CHECK jobs_full_progress_iff_completed).
     */
    public static final int SUBJOBS_PROGRESS_SHARE = 90;

    /** Most sub-jobs one wave may spawn; a bound on one statement's size. */
    public static final int MAX_SUBJOBS_PER_WAVE = 10_000;

    static final String COLUMNS = """
            id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
            progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
            subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
            approved_by, created_at, approved_at, started_at, finished_at, updated_at""";

    private static final String UNFINISHED = "('pending', 'approved', 'processing', 'waiting')";

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
    private static final String RECORD = """
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

    /**
     * Fan-in, as CTEs to splice into a statement. Given the CTE {@code finished (id, parent_id,
     * status, last_error)} of sub-jobs that just reached a terminal state, subtracts them from
     * their waiting parents' open counts; the statement that brings a count to zero moves the
     * parent back to approved, at its resume stage. Under fail_fast a failed sub-job instead
     * fails the parent at once and cancels its unfinished siblings.
     *
     * <p>The parent row lock serializes children that finish at the same moment, and each
     * re-reads the count after the lock, so exactly one of them resumes the parent. A parent that
     * fails this way is itself a finished sub-job of its own parent: a second level does that
     * fan-in in the same statement. {@code changed} selects the ids the statement already
     * updated; they are left out (a row may be updated only once per statement).
     */
    static String fanIn(String changed) {
        return fanInLevel("finished", "fanin", changed)
                + ",\nfanin_failed AS (SELECT id, parent_id, status, last_error FROM fanin WHERE status = 'failed'),\n"
                + fanInLevel(
                        "fanin_failed",
                        "fanin2",
                        changed + " UNION ALL SELECT id FROM fanin UNION ALL SELECT id FROM fanin_siblings");
    }

    private static String fanInLevel(String finished, String name, String changed) {
        String failFast = "(p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL)";
        return """
                %1$s_counts AS (
                    SELECT f.parent_id, count(*)::int AS n,
                           min(f.id) FILTER (WHERE f.status = 'failed') AS failed_child,
                           (array_agg(f.last_error ORDER BY f.id) FILTER (WHERE f.status = 'failed'))[1] AS failed_error
                      FROM %2$s f WHERE f.parent_id IS NOT NULL GROUP BY f.parent_id),
                %1$s AS (
                    UPDATE jobs p
                       SET subjobs_open = CASE WHEN %4$s THEN 0 ELSE p.subjobs_open - f.n END,
                           status = CASE WHEN %4$s THEN 'failed'::job_status
                                         WHEN p.subjobs_open = f.n THEN 'approved'::job_status ELSE p.status END,
                           finished_at = CASE WHEN %4$s THEN now() ELSE p.finished_at END,
                           last_error = CASE WHEN %4$s
                                             THEN concat('sub-job ', f.failed_child, ' failed: ', f.failed_error)
                                             ELSE p.last_error END,
                           run_at = CASE WHEN NOT %4$s AND p.subjobs_open = f.n THEN now() ELSE p.run_at END,
                           current_stage = CASE WHEN %4$s THEN p.current_stage
                                                WHEN p.subjobs_open = f.n THEN p.resume_stage
                                                ELSE concat_ws(' ', p.fanout_stage,
                                                         (p.subjobs_total - p.subjobs_open + f.n) || '/' || p.subjobs_total) END,
                           progress_percentage = CASE WHEN %4$s THEN p.progress_percentage
                                                      ELSE (%5$d * (p.subjobs_total - p.subjobs_open + f.n)) / p.subjobs_total END,
                           updated_at = now()
                      FROM %1$s_counts f
                     WHERE p.id = f.parent_id AND p.status = 'waiting' AND p.id NOT IN (%3$s)
                    RETURNING p.id, p.parent_id, p.queue, p.status, p.attempt, p.progress_percentage,
                              p.current_stage, p.last_error),
                %1$s_siblings AS (
                    UPDATE jobs s
                       SET status = 'cancelled', finished_at = now(), updated_at = now(), locked_by = NULL,
                           heartbeat_at = NULL, lease_expires_at = NULL, subjobs_open = 0
                      FROM %1$s f
                     WHERE s.parent_id = f.id AND f.status = 'failed'
                       AND s.status IN ('pending', 'approved', 'processing', 'waiting')
                       AND s.id NOT IN (%3$s)
                    RETURNING s.id, s.parent_id, s.queue, s.status, s.attempt, s.progress_percentage, s.current_stage)""".formatted(name, finished, changed, failFast, SUBJOBS_PROGRESS_SHARE);
    }

    /** The events of {@link #fanIn}: resumed, progress (the roll-up), failed, and cancelled siblings. */
    private static final String FAN_IN_CHANGES = fanInChanges("fanin") + "\nUNION ALL\n" + fanInChanges("fanin2");

    private static String fanInChanges(String name) {
        return """
                SELECT id, queue,
                       CASE status WHEN 'approved' THEN 'resumed' WHEN 'failed' THEN 'failed' ELSE 'progress' END::job_event_kind,
                       status, attempt, NULL, NULL, progress_percentage, current_stage,
                       CASE WHEN status = 'failed' THEN last_error END
                  FROM %1$s
                UNION ALL
                SELECT id, queue, 'cancelled', status, attempt, NULL, NULL, progress_percentage, current_stage,
                       'cancelled: sub-job ' || parent_id || ' failed fast'
                  FROM %1$s_siblings""".formatted(name);
    }

    private static final String CREATE = """
            WITH inserted AS (
                INSERT INTO jobs (type, queue, priority, parameters, storyboard, max_attempts, run_at,
                                  idempotency_key, created_by)
                VALUES (?, ?, ?, ?::jsonb, ?::jsonb, ?, COALESCE(?::timestamptz, now()), ?, ?)
                ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING *),
            changes AS (
                SELECT id, queue, 'created'::job_event_kind AS kind, status, attempt, NULL::text AS worker_id,
                       created_by AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM inserted),
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified FROM inserted
            """.formatted(RECORD, COLUMNS);

    private static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM jobs WHERE id = ?";

    private static final String FIND_BY_IDEMPOTENCY_KEY = "SELECT " + COLUMNS + " FROM jobs WHERE idempotency_key = ?";

    private static final String APPROVE = """
            WITH approved AS (
                UPDATE jobs SET status = 'approved', approved_by = ?, approved_at = now(), updated_at = now()
                 WHERE id = ? AND status = 'pending'
                RETURNING *),
            changes AS (
                SELECT id, queue, 'approved'::job_event_kind AS kind, status, attempt, NULL::text AS worker_id,
                       approved_by AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM approved),
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified FROM approved
            """.formatted(RECORD, COLUMNS);

    /**
     * Cancels a job and, with it, every unfinished job below it. A processing job loses its
     * lease here; its worker learns it at the next heartbeat and interrupts the handler.
     *
     * <p>The tree is locked deepest first, before anything is written: a sub-job that finishes
     * locks itself and then its parent (fan-in), so taking the locks in that same order means
     * the two never wait on each other in a cycle. A sub-job that finished while we waited for
     * its lock is re-checked (FOR UPDATE re-reads the row) and drops out.
     */
    private static final String CANCEL =
            """
            WITH RECURSIVE tree AS (
                SELECT id, 0 AS depth FROM jobs WHERE id = ? AND status IN %1$s
                UNION ALL
                SELECT c.id, t.depth + 1 FROM jobs c JOIN tree t ON c.parent_id = t.id WHERE c.status IN %1$s),
            locked AS MATERIALIZED (
                SELECT j.id FROM jobs j JOIN tree t ON t.id = j.id
                 WHERE j.status IN %1$s
                 ORDER BY t.depth DESC, j.id
                   FOR UPDATE OF j),
            cancelled AS (
                UPDATE jobs j
                   SET status = 'cancelled', finished_at = now(), updated_at = now(), locked_by = NULL,
                       heartbeat_at = NULL, lease_expires_at = NULL, subjobs_open = 0
                  FROM locked l
                 WHERE j.id = l.id AND j.status IN %1$s
                RETURNING j.*),
            finished AS (SELECT id, parent_id, status, last_error FROM cancelled),
            %2$s,
            changes AS (
                SELECT id, queue, 'cancelled'::job_event_kind AS kind, status, attempt, NULL::text AS worker_id,
                       ?::text AS actor, progress_percentage, current_stage AS stage,
                       CASE WHEN id = ? THEN NULL ELSE 'cancelled with job ' || ? END AS message
                  FROM cancelled
                UNION ALL
                %3$s),
            %4$s
            SELECT %5$s, (SELECT count(*) FROM notified) AS notified FROM cancelled WHERE id = ?
            """.formatted(UNFINISHED, fanIn("SELECT id FROM cancelled"), FAN_IN_CHANGES, RECORD, COLUMNS);

    /**
     * A failed or cancelled job starts again with a fresh budget of attempts, and reruns only
     * what failed: its failed or cancelled sub-jobs go back to approved and it waits for them
     * (completed ones keep their results); with none to rerun it resumes at its resume stage, or
     * starts over when it never fanned out. A sub-job can be retried only while its parent still
     * waits (the parent is locked first so that it cannot resume in between); the parent then
     * waits for it again.
     */
    private static final String RETRY = """
            WITH parent AS MATERIALIZED (
                SELECT p.id FROM jobs p
                 WHERE p.id = (SELECT parent_id FROM jobs WHERE id = ?) AND p.status = 'waiting'
                   FOR UPDATE),
            target AS MATERIALIZED (
                SELECT j.id FROM jobs j
                 WHERE j.id = ? AND j.status IN ('failed', 'cancelled')
                   AND (j.parent_id IS NULL OR j.parent_id IN (SELECT id FROM parent))
                   FOR UPDATE),
            rerun AS (
                UPDATE jobs c
                   SET status = 'approved', attempt = 0, run_at = now(), finished_at = NULL, result = NULL,
                       progress_percentage = 0, current_stage = NULL, updated_at = now()
                  FROM target t
                 WHERE c.parent_id = t.id AND c.status IN ('failed', 'cancelled')
                RETURNING c.*),
            rerun_count AS (SELECT count(*)::int AS n FROM rerun),
            retried AS (
                UPDATE jobs j
                   SET status = CASE WHEN r.n > 0 THEN 'waiting' ELSE 'approved' END::job_status,
                       subjobs_open = r.n, attempt = 0, run_at = now(), finished_at = NULL, result = NULL,
                       current_stage = CASE WHEN r.n > 0
                                            THEN concat_ws(' ', j.fanout_stage, (j.subjobs_total - r.n) || '/' || j.subjobs_total)
                                            ELSE j.resume_stage END,
                       progress_percentage = CASE WHEN r.n > 0 THEN (%3$d * (j.subjobs_total - r.n)) / j.subjobs_total ELSE 0 END,
                       approved_by = COALESCE(j.approved_by, ?), approved_at = COALESCE(j.approved_at, now()),
                       updated_at = now()
                  FROM target t, rerun_count r
                 WHERE j.id = t.id
                RETURNING j.*),
            reopened AS (
                UPDATE jobs p SET subjobs_open = p.subjobs_open + 1, updated_at = now()
                  FROM retried r
                 WHERE p.id = r.parent_id
                RETURNING p.id),
            changes AS (
                SELECT id, queue, 'retried'::job_event_kind AS kind, status, attempt, NULL::text AS worker_id,
                       ?::text AS actor, progress_percentage, current_stage AS stage, 'retried by a person' AS message
                  FROM retried
                UNION ALL
                SELECT id, queue, 'retried', status, attempt, NULL, NULL, progress_percentage, current_stage,
                       'rerun with job ' || parent_id
                  FROM rerun),
            %1$s
            SELECT %2$s, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM reopened) AS reopened
              FROM retried
            """.formatted(RECORD, COLUMNS, SUBJOBS_PROGRESS_SHARE);

    /**
     * The claim. Per queue, the best claimable rows are read from the partial index
     * jobs_claimable_idx in claim order and locked with SKIP LOCKED, so concurrent claimers split
     * the work instead of queueing on each other's row locks; the union is cut to the free
     * slots. Rows locked by the per-queue LIMIT but cut by the outer one are unlocked at commit,
     * a moment later. MATERIALIZED keeps PostgreSQL from inlining the locking subquery into the
     * UPDATE, where it could be evaluated more than once and lock more rows than it returns.
     *
     * <p>Where to start in each queue: at its head, or after a {@link ClaimPosition} (the last job
     * the worker claimed there). Every claimed job leaves a dead entry at the head of the index
     * until vacuum removes it, and a scan from the head steps over all of them: found with the
     * burn-down benchmark, where a 300 000-job drain ran 21 % to 44 % faster with claims that
     * resume (docs/benchmarks.md, "claims that resume"). A resumed scan is two index scans in claim
     * order, each with a start key: the rest of the position's priority after (run_at, id), then
     * the lower priorities; the branches that do not apply are cut by their one-time filters.
     *
     * <p>The UPDATE finds its rows as {@code id = ANY (ARRAY(…))}, a primary-key lookup whatever
     * the planner guesses about the LIMIT: that makes the generic plan as good as a custom one, so
     * the worker's claim connection can skip planning on every call ({@code plan_cache_mode =
     * force_generic_plan}; a join to the CTE made the generic plan a hash join over the whole
     * table). Measured in docs/benchmarks.md.
     */
    private static final String CLAIM = """
            WITH claim AS (SELECT ?::bigint[] AS exclude, ?::text[] AS types, ?::int AS slots,
                                  now() + make_interval(secs => ?::double precision) AS lease_until),
            candidates AS MATERIALIZED (
                SELECT c.id, c.priority, c.run_at
                  FROM claim,
                       unnest(?::text[], ?::smallint[], ?::timestamptz[], ?::bigint[])
                           AS q(name, after_priority, after_run_at, after_id)
                 CROSS JOIN LATERAL (
                       SELECT * FROM (
                           SELECT id, priority, run_at FROM jobs
                            WHERE q.after_id IS NULL
                              AND status = 'approved' AND queue = q.name AND run_at <= now()
                              AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                            ORDER BY priority DESC, run_at, id
                            LIMIT claim.slots
                              FOR UPDATE SKIP LOCKED) from_head
                       UNION ALL
                       SELECT * FROM (
                           SELECT id, priority, run_at FROM jobs
                            WHERE q.after_id IS NOT NULL
                              AND priority = q.after_priority AND (run_at, id) > (q.after_run_at, q.after_id)
                              AND status = 'approved' AND queue = q.name AND run_at <= now()
                              AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                            ORDER BY run_at, id
                            LIMIT claim.slots
                              FOR UPDATE SKIP LOCKED) same_priority
                       UNION ALL
                       SELECT * FROM (
                           SELECT id, priority, run_at FROM jobs
                            WHERE q.after_id IS NOT NULL
                              AND priority < q.after_priority
                              AND status = 'approved' AND queue = q.name AND run_at <= now()
                              AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                            ORDER BY priority DESC, run_at, id
                            LIMIT claim.slots
                              FOR UPDATE SKIP LOCKED) lower_priorities
                       LIMIT claim.slots) c
                 ORDER BY c.priority DESC, c.run_at, c.id
                 LIMIT (SELECT slots FROM claim)),
            claimed AS (
                UPDATE jobs j
                   SET status = 'processing', attempt = j.attempt + 1, locked_by = ?, heartbeat_at = now(),
                       lease_expires_at = (SELECT lease_until FROM claim),
                       started_at = COALESCE(j.started_at, now()), updated_at = now()
                 WHERE j.id = ANY (ARRAY(SELECT id FROM candidates))
                RETURNING j.*),
            changes AS (
                SELECT id, queue, 'claimed'::job_event_kind AS kind, status, attempt, locked_by AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM claimed),
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified FROM claimed ORDER BY priority DESC, run_at, id
            """.formatted(RECORD, COLUMNS);

    /**
     * One statement for all running jobs of a worker: extends each lease that is still held by the
     * worker's own timeout and writes the progress and stage reported since the last beat (NULL:
     * unchanged; 100 is written as 99, since 100 % means completed). Only the columns written here
     * change, none of them indexed, so the updates stay HOT.
     */
    private static final String HEARTBEAT = """
            WITH beats AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::int[], ?::text[]) AS b(id, attempt, progress, stage)),
            held AS (
                UPDATE jobs j
                   SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => ?::double precision),
                       updated_at = now(),
                       progress_percentage = COALESCE(LEAST(b.progress, 99), j.progress_percentage),
                       current_stage = COALESCE(b.stage, j.current_stage)
                  FROM beats b
                 WHERE j.id = b.id AND j.attempt = b.attempt AND j.locked_by = ? AND j.status = 'processing'
                RETURNING j.id, j.queue, j.status, j.attempt, j.locked_by, j.progress_percentage, j.current_stage,
                          (b.progress IS NOT NULL OR b.stage IS NOT NULL) AS reported),
            changes AS (
                SELECT id, queue, 'progress'::job_event_kind AS kind, status, attempt, locked_by AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM held WHERE reported),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM held
            """.formatted(RECORD);

    /**
     * processing → completed for many top-level jobs of one worker in one statement (one commit).
     * Each row is fenced by (id, attempt, locked_by, status = 'processing') and must have no
     * parent; the rows that do not qualify (lease lost, or a sub-job, whose completion needs the
     * fan-in of {@link #COMPLETE}) are left alone and not returned. The caller passes the ids in
     * ascending order, so that a nested loop over them, the plan PostgreSQL picks, updates the rows
     * in id order.
     *
     * <p>No separate {@code FOR UPDATE} pass: the UPDATE locks each row itself and re-checks the
     * fence on its newest version if another transaction changed it meanwhile. Found with the
     * burn-down benchmark: locking first wrote a lock record per row before the update's own.
     */
    private static final String COMPLETE_TOP_LEVEL = """
            WITH outcomes AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
            done AS (
                UPDATE jobs j
                   SET status = 'completed', result = o.result::jsonb, progress_percentage = 100, finished_at = now(),
                       updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
                  FROM outcomes o
                 WHERE j.id = o.id AND j.attempt = o.attempt AND j.locked_by = ? AND j.status = 'processing'
                   AND j.parent_id IS NULL
                RETURNING j.*),
            changes AS (
                SELECT id, queue, 'completed'::job_event_kind AS kind, status, attempt, ?::text AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM done),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM done
            """.formatted(RECORD);

    /**
     * processing → completed, for one job: the row is fenced by (id, attempt, locked_by, status =
     * 'processing') and completing a sub-job does its fan-in. Written for many rows (the rows are
     * locked in id order first) but called with one: a batch of sub-jobs of several parents would
     * lock those parents in no fixed order.
     */
    private static final String COMPLETE = """
            WITH outcomes AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
            target AS MATERIALIZED (
                SELECT j.id, o.result FROM jobs j JOIN outcomes o ON o.id = j.id AND o.attempt = j.attempt
                 WHERE j.locked_by = ? AND j.status = 'processing'
                 ORDER BY j.id
                   FOR UPDATE OF j),
            done AS (
                UPDATE jobs j
                   SET status = 'completed', result = t.result::jsonb, progress_percentage = 100, finished_at = now(),
                       updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
                  FROM target t
                 WHERE j.id = t.id
                RETURNING j.*),
            finished AS (SELECT id, parent_id, status, last_error FROM done),
            %s,
            changes AS (
                SELECT id, queue, 'completed'::job_event_kind AS kind, status, attempt, ?::text AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM done
                UNION ALL
                %s),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM done
            """.formatted(fanIn("SELECT id FROM done"), FAN_IN_CHANGES, RECORD);

    /**
     * A failure: back to approved after a backoff while attempts remain and the error is
     * retryable, otherwise failed for good (which counts toward the parent's fan-in).
     */
    private static final String FAIL = """
            WITH target AS MATERIALIZED (
                SELECT id, (?::boolean AND attempt < max_attempts) AS retry
                  FROM jobs
                 WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'
                   FOR UPDATE),
            failed AS (
                UPDATE jobs j
                   SET status = CASE WHEN t.retry THEN 'approved' ELSE 'failed' END::job_status,
                       run_at = CASE WHEN t.retry THEN now() + make_interval(secs => ?::double precision) ELSE j.run_at END,
                       finished_at = CASE WHEN t.retry THEN NULL ELSE now() END,
                       last_error = ?, locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL, updated_at = now()
                  FROM target t
                 WHERE j.id = t.id
                RETURNING j.*),
            finished AS (SELECT id, parent_id, status, last_error FROM failed WHERE status = 'failed'),
            %s,
            changes AS (
                SELECT id, queue, CASE WHEN status = 'approved' THEN 'retried' ELSE 'failed' END::job_event_kind AS kind,
                       status, attempt, ?::text AS worker_id, NULL::text AS actor, progress_percentage,
                       current_stage AS stage, last_error AS message
                  FROM failed
                UNION ALL
                %s),
            %s
            SELECT id, status, run_at, (SELECT count(*) FROM notified) AS notified FROM failed
            """.formatted(fanIn("SELECT id FROM failed"), FAN_IN_CHANGES, RECORD);

    /**
     * The parent gives its lease back and waits; its sub-jobs are inserted approved in the same
     * statement (only if the fence held: they are joined to the updated parent row). Waiting does
     * not use an attempt: the resume claims it again.
     */
    private static final String WAIT_FOR_SUBJOBS = """
            WITH parent AS (
                UPDATE jobs
                   SET status = 'waiting', attempt = attempt - 1, locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
                       subjobs_total = subjobs_total + ?, subjobs_open = subjobs_open + ?,
                       fanout_stage = ?, resume_stage = ?, on_subjob_failure = ?::subjob_failure_policy,
                       current_stage = concat_ws(' ', ?::text, subjobs_total || '/' || (subjobs_total + ?)),
                       progress_percentage = (%2$d * subjobs_total) / (subjobs_total + ?),
                       updated_at = now()
                 WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'
                RETURNING *),
            children AS (
                INSERT INTO jobs (parent_id, type, queue, priority, parameters, max_attempts, status,
                                  approved_by, approved_at)
                SELECT p.id, c.type, COALESCE(c.queue, p.queue), c.priority, c.parameters::jsonb, c.max_attempts,
                       'approved', p.approved_by, now()
                  FROM parent p
                 CROSS JOIN unnest(?::text[], ?::text[], ?::int[], ?::text[], ?::int[])
                       WITH ORDINALITY AS c(type, queue, priority, parameters, max_attempts, ord)
                 ORDER BY c.ord
                RETURNING *),
            changes AS (
                SELECT id, queue, 'waiting'::job_event_kind AS kind, status, attempt, ?::text AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM parent
                UNION ALL
                SELECT id, queue, 'created', status, attempt, NULL, NULL, progress_percentage, current_stage,
                       'sub-job of ' || parent_id
                  FROM children),
            %1$s
            SELECT c.id, (SELECT count(*) FROM notified) AS notified FROM children c ORDER BY c.id
            """.formatted(RECORD, SUBJOBS_PROGRESS_SHARE);

    /**
     * Returns processing jobs that match {@code %1$s} to approved (or failed when their attempts
     * are used up). The rows are locked with SKIP LOCKED: a row that a heartbeat or a completion
     * is writing right now is alive and left alone, and a row whose lease changed before the lock
     * is re-checked against the predicate. {@code %2$s} is the reason recorded in last_error.
     *
     * <p>run_at is left as it was (it had passed, or the job could not have been claimed): a
     * reclaimed job keeps its place at the head of the claim order instead of queueing behind a
     * backlog that arrived after it, so a dead worker costs its jobs seconds, not the backlog's
     * length. Measured in docs/reliability.md (scenario 2).
     */
    private static final String RECLAIM_TEMPLATE = """
            WITH stale AS MATERIALIZED (
                SELECT id, locked_by, heartbeat_at, lease_expires_at FROM jobs
                 WHERE status = 'processing' AND %1$s
                 ORDER BY id
                 LIMIT ?
                   FOR UPDATE SKIP LOCKED),
            reclaimed AS (
                UPDATE jobs j
                   SET status = CASE WHEN j.attempt < j.max_attempts THEN 'approved' ELSE 'failed' END::job_status,
                       finished_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE now() END,
                       last_error = %2$s,
                       locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL, updated_at = now()
                  FROM stale s
                 WHERE j.id = s.id
                RETURNING j.*, s.locked_by AS previous_worker),
            finished AS (SELECT id, parent_id, status, last_error FROM reclaimed WHERE status = 'failed'),
            %3$s,
            changes AS (
                SELECT id, queue, CASE WHEN status = 'approved' THEN 'reclaimed' ELSE 'failed' END::job_event_kind AS kind,
                       status, attempt, previous_worker AS worker_id, NULL::text AS actor, progress_percentage,
                       current_stage AS stage, last_error AS message
                  FROM reclaimed
                UNION ALL
                %4$s),
            %5$s
            SELECT status::text AS status, count(*) AS n, (SELECT count(*) FROM notified) AS notified
              FROM reclaimed GROUP BY status
            """;

    /**
     * Leases whose holder let them end: each was written by its holder with its own timeout, so a
     * reclaimer configured with a shorter timeout never takes a healthy job of a slower-beating
     * worker.
     */
    private static final String RECLAIM_EXPIRED = RECLAIM_TEMPLATE.formatted(
            "lease_expires_at < now()",
            "format('reclaimed: worker %s stopped heartbeating (last heartbeat %s, lease ended %s)',"
                    + " s.locked_by, s.heartbeat_at, s.lease_expires_at)",
            fanIn("SELECT id FROM reclaimed"),
            FAN_IN_CHANGES,
            RECORD);

    /**
     * Startup recovery: the jobs of earlier processes of this worker's name that the caller found
     * gone (see WorkerStore.predecessors); their ids are given, never derived from the name.
     */
    private static final String RECOVER_PREDECESSORS = RECLAIM_TEMPLATE.formatted(
            "locked_by = ANY (?::text[])",
            "format('reclaimed: worker %s was restarted as a new process', s.locked_by)",
            fanIn("SELECT id FROM reclaimed"),
            FAN_IN_CHANGES,
            RECORD);

    /** Graceful shutdown: back to approved at once, giving the attempt back. */
    private static final String RELEASE = """
            WITH leases AS (
                SELECT * FROM unnest(?::bigint[], ?::int[]) AS l(id, attempt)),
            released AS (
                UPDATE jobs j
                   SET status = 'approved', attempt = j.attempt - 1, run_at = now(), locked_by = NULL,
                       heartbeat_at = NULL, lease_expires_at = NULL, updated_at = now()
                  FROM leases l
                 WHERE j.id = l.id AND j.attempt = l.attempt AND j.locked_by = ? AND j.status = 'processing'
                RETURNING j.*),
            changes AS (
                SELECT id, queue, 'released'::job_event_kind AS kind, status, attempt, ?::text AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage,
                       'worker shut down before the job finished' AS message
                  FROM released),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM released
            """.formatted(RECORD);

    /**
     * Deletes finished top-level jobs older than the retention, oldest first, at most {@code ?}
     * per call so that each transaction stays short; their sub-jobs and events go with them
     * (ON DELETE CASCADE). Sub-jobs are never pruned on their own: a parent may still need them.
     */
    private static final String PRUNE = """
            WITH doomed AS (
                SELECT id FROM jobs
                 WHERE finished_at < now() - make_interval(secs => ?::double precision) AND parent_id IS NULL
                 ORDER BY finished_at
                 LIMIT ?)
            DELETE FROM jobs j USING doomed d WHERE j.id = d.id
            """;

    private static final String SUBJOBS = "SELECT " + COLUMNS + " FROM jobs WHERE parent_id = ? ORDER BY id";

    private static final String EVENTS_OF_JOB =
            "SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?";

    private static final String EVENTS_AFTER = "SELECT * FROM job_events WHERE id > ? ORDER BY id LIMIT ?";

    private static final String STATUS_OF = "SELECT status, parent_id FROM jobs WHERE id = ?";

    private static final String CANCELLED_AMONG = "SELECT id FROM jobs WHERE id = ANY (?) AND status = 'cancelled'";

    private final DataSource dataSource;

    public JobStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    // ---- reading --------------------------------------------------------------------------

    public Optional<Job> find(long id) {
        return Sql.query(dataSource, "find job " + id, FIND_BY_ID, ps -> ps.setLong(1, id), JobStore::job).stream()
                .findFirst();
    }

    public List<Job> subJobs(long parentId) {
        return Sql.query(
                dataSource, "list sub-jobs of " + parentId, SUBJOBS, ps -> ps.setLong(1, parentId), JobStore::job);
    }

    /** A job's history after event {@code afterId} (0 for all), oldest first. */
    public List<JobEvent> events(long jobId, long afterId, int limit) {
        return Sql.query(
                dataSource,
                "read events of job " + jobId,
                EVENTS_OF_JOB,
                ps -> {
                    ps.setLong(1, jobId);
                    ps.setLong(2, afterId);
                    ps.setInt(3, limit);
                },
                JobStore::event);
    }

    /** Every job's events after {@code afterId}, oldest first: the feed behind live streams. */
    public List<JobEvent> eventsAfter(long afterId, int limit) {
        return Sql.query(
                dataSource,
                "read events",
                EVENTS_AFTER,
                ps -> {
                    ps.setLong(1, afterId);
                    ps.setInt(2, limit);
                },
                JobStore::event);
    }

    // ---- transitions requested by people ----------------------------------------------------

    /**
     * Inserts a pending job. With an idempotency key that already exists, nothing is inserted:
     * the existing job comes back, or a conflict when it was created with another type or other
     * parameters. Concurrent creates with one key insert exactly one row: ON CONFLICT waits for
     * the first insert to commit and then does nothing.
     */
    public CreateResult create(NewJob job) {
        for (int round = 0; round < 3; round++) {
            List<Job> inserted = Sql.query(dataSource, "create job", CREATE, ps -> bindCreate(ps, job), JobStore::job);
            if (!inserted.isEmpty()) {
                return new Created(inserted.getFirst());
            }
            Optional<Job> existing = Sql.query(
                            dataSource,
                            "find job by idempotency key",
                            FIND_BY_IDEMPOTENCY_KEY,
                            ps -> ps.setString(1, job.idempotencyKey()),
                            JobStore::job)
                    .stream()
                    .findFirst();
            if (existing.isPresent()) {
                Job found = existing.get();
                boolean same =
                        found.type().equals(job.type()) && found.parameters().equals(job.parameters());
                return same ? new AlreadyExists(found) : new IdempotencyConflict(found);
            }
            // The conflicting row was deleted (pruned) between the two statements: insert again.
        }
        throw new IllegalStateException("idempotency key " + job.idempotencyKey() + " neither inserts nor reads");
    }

    private static void bindCreate(PreparedStatement ps, NewJob job) throws SQLException {
        ps.setString(1, job.type());
        ps.setString(2, job.queue());
        ps.setInt(3, job.priority());
        ps.setString(4, Json.write(job.parameters()));
        ps.setString(5, Json.write(job.storyboard()));
        ps.setInt(6, job.maxAttempts());
        if (job.runAt() == null) {
            ps.setNull(7, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(7, job.runAt().atOffset(ZoneOffset.UTC));
        }
        ps.setString(8, job.idempotencyKey());
        ps.setString(9, job.createdBy());
    }

    /** pending → approved, recording who approved. Concurrent approvals: exactly one moves it. */
    public Transition approve(long id, String approvedBy) {
        Objects.requireNonNull(approvedBy, "approvedBy");
        List<Job> rows = Sql.query(
                dataSource,
                "approve job " + id,
                APPROVE,
                ps -> {
                    ps.setString(1, approvedBy);
                    ps.setLong(2, id);
                },
                JobStore::job);
        return rows.isEmpty() ? notMoved(id, "only a pending job can be approved") : new Moved(rows.getFirst());
    }

    /** pending, approved, processing or waiting → cancelled, with all unfinished jobs below it. */
    public Transition cancel(long id, String cancelledBy) {
        List<Job> rows = Sql.query(
                dataSource,
                "cancel job " + id,
                CANCEL,
                ps -> {
                    ps.setLong(1, id);
                    ps.setString(2, cancelledBy);
                    ps.setLong(3, id);
                    ps.setLong(4, id);
                    ps.setLong(5, id);
                },
                JobStore::job);
        return rows.isEmpty()
                ? notMoved(id, "a job that already finished cannot be cancelled")
                : new Moved(rows.getFirst());
    }

    /** failed or cancelled → approved with a fresh budget of attempts. */
    public Transition retry(long id, String retriedBy) {
        List<Job> rows = Sql.query(
                dataSource,
                "retry job " + id,
                RETRY,
                ps -> {
                    ps.setLong(1, id);
                    ps.setLong(2, id);
                    ps.setString(3, retriedBy);
                    ps.setString(4, retriedBy);
                },
                JobStore::job);
        if (!rows.isEmpty()) {
            return new Moved(rows.getFirst());
        }
        Transition why = notMoved(id, "only a failed or cancelled job can be retried");
        if (why instanceof WrongState w && (w.actual() == JobStatus.FAILED || w.actual() == JobStatus.CANCELLED)) {
            return new WrongState(id, w.actual(), "a sub-job can be retried only while its parent is waiting");
        }
        return why;
    }

    private Transition notMoved(long id, String reason) {
        List<JobStatus> status = Sql.query(
                dataSource,
                "read status of job " + id,
                STATUS_OF,
                ps -> ps.setLong(1, id),
                rs -> JobStatus.fromDb(rs.getString("status")));
        return status.isEmpty() ? new NotFound(id) : new WrongState(id, status.getFirst(), reason);
    }

    // ---- the worker's side ----------------------------------------------------------------

    /**
     * Claims up to {@code limit} claimable jobs of the given queues for {@code workerId}, in
     * claim order (priority, then run_at, then id). {@code exclude} lists jobs whose old handlers
     * this worker still has running (after a lost lease), so that it never holds two runs of one
     * job.
     */
    public List<Job> claim(String workerId, Collection<String> queues, int limit, Collection<Long> exclude) {
        return claim(workerId, queues, null, limit, exclude);
    }

    /**
     * How long a lease lasts without a heartbeat when the holder does not say: the workers'
     * default GAFFER_HEARTBEAT_TIMEOUT.
     */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(15);

    /**
     * As {@link #claim(String, Collection, int, Collection)}, taking only jobs of {@code types}
     * (null: any type): a worker claims only what it has handlers for, so a job whose handler
     * lives on other workers waits for them instead of failing here.
     */
    public List<Job> claim(
            String workerId, Collection<String> queues, Collection<String> types, int limit, Collection<Long> exclude) {
        List<String> names = List.copyOf(queues);
        return claim(workerId, names, Collections.nCopies(names.size(), null), types, limit, exclude, DEFAULT_LEASE);
    }

    /**
     * As {@link #claim(String, Collection, Collection, int, Collection)}, each queue starting
     * after its position in {@code after} (same order as {@code queues}; null: at the head).
     * Resuming skips the dead index entries at the head of a queue that is being drained, but
     * also any claimable job that sorts before the position: a higher priority one, one approved
     * late with an early run_at, a reclaimed one. The caller claims from the head again when it
     * hears of such a job (a NOTIFY hint), when a resumed claim comes back short, and at least
     * once per poll interval. Each lease lasts {@code lease} unless the holder beats again (its
     * heartbeat timeout).
     */
    public List<Job> claim(
            String workerId,
            List<String> queues,
            List<ClaimPosition> after,
            Collection<String> types,
            int limit,
            Collection<Long> exclude,
            Duration lease) {
        Objects.requireNonNull(workerId, "workerId");
        double leaseSeconds = seconds("lease", lease);
        if (queues.size() != after.size()) {
            throw new IllegalArgumentException(
                    queues.size() + " queues but " + after.size() + " positions; give one per queue (null: the head)");
        }
        if (limit <= 0 || queues.isEmpty()) {
            return List.of();
        }
        int n = queues.size();
        Integer[] priorities = new Integer[n];
        // As text: Instant.toString() keeps every digit the database gave (microseconds), where a
        // round trip through the JVM's time zone might not.
        String[] runAts = new String[n];
        Long[] ids = new Long[n];
        for (int i = 0; i < n; i++) {
            ClaimPosition p = after.get(i);
            if (p != null) {
                priorities[i] = p.priority();
                runAts[i] = p.runAt().toString();
                ids[i] = p.id();
            }
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(CLAIM)) {
            ps.setArray(1, c.createArrayOf("bigint", exclude.toArray()));
            ps.setArray(2, types == null ? null : c.createArrayOf("text", types.toArray()));
            ps.setInt(3, limit);
            ps.setDouble(4, leaseSeconds);
            ps.setArray(5, c.createArrayOf("text", queues.toArray()));
            ps.setArray(6, c.createArrayOf("int2", priorities));
            ps.setArray(7, c.createArrayOf("text", runAts));
            ps.setArray(8, c.createArrayOf("bigint", ids));
            ps.setString(9, workerId);
            List<Job> claimed = new ArrayList<>(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    claimed.add(job(rs));
                }
            }
            if (claimed.size() > limit) {
                throw new IllegalStateException("claimed " + claimed.size() + " jobs for " + limit + " slots");
            }
            return claimed;
        } catch (SQLException e) {
            throw new DatabaseException("claim jobs for " + workerId, e);
        }
    }

    /** Progress and stage to report with a heartbeat; null fields are unchanged since the last beat. */
    public record Beat(Lease lease, Integer progressPercentage, String stage) {
        public Beat {
            if (progressPercentage != null && (progressPercentage < 0 || progressPercentage > 100)) {
                throw new IllegalArgumentException("progress must be between 0 and 100, got " + progressPercentage);
            }
        }
    }

    /** As {@link #heartbeat(String, List, Duration)} with the {@link #DEFAULT_LEASE}. */
    public HeartbeatResult heartbeat(String workerId, List<Beat> beats) {
        return heartbeat(workerId, beats, DEFAULT_LEASE);
    }

    /**
     * Extends the leases of all of one worker's running jobs by {@code lease} (its heartbeat
     * timeout) in one statement and writes the progress reported since the last beat. Returns
     * which leases are still held; for the others the worker must interrupt the handler and
     * discard its outcome. Of those, the ones that were cancelled are named (a person's decision,
     * not a fault).
     */
    public HeartbeatResult heartbeat(String workerId, List<Beat> beats, Duration lease) {
        double leaseSeconds = seconds("lease", lease);
        if (beats.isEmpty()) {
            return new HeartbeatResult(Set.of(), Set.of(), Set.of());
        }
        Long[] ids = new Long[beats.size()];
        Integer[] attempts = new Integer[beats.size()];
        Integer[] progress = new Integer[beats.size()];
        String[] stages = new String[beats.size()];
        for (int i = 0; i < beats.size(); i++) {
            Beat b = beats.get(i);
            if (!b.lease().workerId().equals(workerId)) {
                throw new IllegalArgumentException("lease of job " + b.lease().jobId() + " belongs to "
                        + b.lease().workerId());
            }
            ids[i] = b.lease().jobId();
            attempts[i] = b.lease().attempt();
            progress[i] = b.progressPercentage();
            stages[i] = b.stage();
        }
        Set<Long> held = new HashSet<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            ps.setArray(2, c.createArrayOf("int4", attempts));
            ps.setArray(3, c.createArrayOf("int4", progress));
            ps.setArray(4, c.createArrayOf("text", stages));
            ps.setDouble(5, leaseSeconds);
            ps.setString(6, workerId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    held.add(rs.getLong("id"));
                }
            }
        } catch (SQLException e) {
            throw new DatabaseException("heartbeat of " + workerId, e);
        }
        Set<Long> lost = new HashSet<>();
        for (Long id : ids) {
            if (!held.contains(id)) {
                lost.add(id);
            }
        }
        if (held.size() + lost.size() != ids.length) {
            throw new IllegalStateException("heartbeat listed a job twice: " + List.of(ids));
        }
        return new HeartbeatResult(Set.copyOf(held), Set.copyOf(lost), lost.isEmpty() ? Set.of() : cancelled(lost));
    }

    /** Which of {@code ids} are cancelled now: read only when a heartbeat found leases lost. */
    public Set<Long> cancelled(Collection<Long> ids) {
        return Set.copyOf(Sql.query(
                dataSource,
                "read which jobs were cancelled",
                CANCELLED_AMONG,
                ps -> ps.setArray(1, ps.getConnection().createArrayOf("bigint", ids.toArray())),
                rs -> rs.getLong("id")));
    }

    private static double seconds(String what, Duration d) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d.toMillis() / 1e3;
    }

    /** Writes progress and stage at once (rather than with the next heartbeat), fenced. */
    public Fenced progress(Lease lease, Integer progressPercentage, String stage) {
        HeartbeatResult r = heartbeat(lease.workerId(), List.of(new Beat(lease, progressPercentage, stage)));
        return r.held().contains(lease.jobId())
                ? new Written(lease.jobId(), JobStatus.PROCESSING, null)
                : new LeaseLost(lease);
    }

    /** processing → completed with {@code result}; may resume the parent. */
    public Fenced complete(Lease lease, com.fasterxml.jackson.databind.JsonNode result) {
        Completion completion = new Completion(lease, result);
        Set<Long> done = new HashSet<>();
        complete(COMPLETE, lease.workerId(), List.of(completion), id -> {
            if (id != lease.jobId() || !done.add(id)) {
                throw new IllegalStateException("completing job " + lease.jobId() + " changed job " + id);
            }
        });
        return done.isEmpty() ? new LeaseLost(lease) : new Written(lease.jobId(), JobStatus.COMPLETED, null);
    }

    /** One outcome for {@link #completeMany}. */
    public record Completion(Lease lease, com.fasterxml.jackson.databind.JsonNode result) {
        public Completion {
            Objects.requireNonNull(lease, "lease");
        }
    }

    /**
     * processing → completed for many jobs of one worker, each fenced as in {@link #complete}.
     * Returns the ids that completed; the others had lost their lease. Top-level jobs complete in
     * one statement (one commit); a job with a parent then completes in a statement of its own,
     * with its fan-in (a batch across parents would lock them in no fixed order).
     */
    public Set<Long> completeMany(String workerId, List<Completion> completions) {
        Objects.requireNonNull(workerId, "workerId");
        if (completions.isEmpty()) {
            return Set.of();
        }
        Map<Long, Completion> byId = new TreeMap<>();
        for (Completion completion : completions) {
            Lease l = completion.lease();
            if (!l.workerId().equals(workerId)) {
                throw new IllegalArgumentException("lease of job " + l.jobId() + " belongs to " + l.workerId());
            }
            if (byId.put(l.jobId(), completion) != null) {
                throw new IllegalArgumentException("job " + l.jobId() + " is listed twice");
            }
        }
        Set<Long> done = new HashSet<>();
        complete(COMPLETE_TOP_LEVEL, workerId, List.copyOf(byId.values()), id -> {
            if (!byId.containsKey(id) || !done.add(id)) {
                throw new IllegalStateException("completing " + byId.keySet() + " changed job " + id);
            }
        });
        // The rest lost their lease or have a parent; the single statement tells which, and does
        // the fan-in of a sub-job.
        for (Completion completion : byId.values()) {
            if (!done.contains(completion.lease().jobId())
                    && complete(completion.lease(), completion.result()) instanceof Written) {
                done.add(completion.lease().jobId());
            }
        }
        return Set.copyOf(done);
    }

    /**
     * Runs a completion statement ({@link #COMPLETE} or {@link #COMPLETE_TOP_LEVEL}); {@code
     * completed} gets the id of each job it completed.
     */
    private void complete(String sql, String workerId, List<Completion> completions, LongConsumer completed) {
        int n = completions.size();
        Long[] ids = new Long[n];
        Integer[] attempts = new Integer[n];
        String[] results = new String[n];
        for (int i = 0; i < n; i++) {
            Lease l = completions.get(i).lease();
            ids[i] = l.jobId();
            attempts[i] = l.attempt();
            results[i] = Json.write(completions.get(i).result());
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            ps.setArray(2, c.createArrayOf("int4", attempts));
            ps.setArray(3, c.createArrayOf("text", results));
            ps.setString(4, workerId);
            ps.setString(5, workerId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    completed.accept(rs.getLong("id"));
                }
            }
        } catch (SQLException e) {
            throw new DatabaseException("complete " + n + " job(s) of " + workerId, e);
        }
    }

    /**
     * processing → approved after {@code backoff} when {@code retryable} and attempts remain,
     * else → failed (which may resume the parent).
     */
    public Fenced fail(Lease lease, String error, boolean retryable, Duration backoff) {
        Objects.requireNonNull(error, "error");
        double seconds = backoff == null ? 0 : backoff.toNanos() / 1e9;
        if (seconds < 0) {
            throw new IllegalArgumentException("backoff must not be negative: " + backoff);
        }
        return fenced(lease, "fail job " + lease.jobId(), FAIL, ps -> {
            ps.setBoolean(1, retryable);
            bindFence(ps, 2, lease);
            ps.setDouble(5, seconds);
            ps.setString(6, error);
            ps.setString(7, lease.workerId());
        });
    }

    /**
     * processing → waiting, with {@code subJobs} inserted approved, in one statement. When the
     * last of them finishes the job becomes claimable again and resumes at {@code resumeStage}.
     * {@code fanoutStage} labels the wait (current_stage shows it with finished/total).
     */
    public SpawnResult waitForSubJobs(Lease lease, List<SubJob> subJobs, String fanoutStage, String resumeStage) {
        return waitForSubJobs(lease, subJobs, fanoutStage, resumeStage, SubJobFailurePolicy.WAIT_ALL);
    }

    /** As {@link #waitForSubJobs(Lease, List, String, String)}, with the parent's failure policy. */
    public SpawnResult waitForSubJobs(
            Lease lease, List<SubJob> subJobs, String fanoutStage, String resumeStage, SubJobFailurePolicy policy) {
        if (subJobs.isEmpty() || subJobs.size() > MAX_SUBJOBS_PER_WAVE) {
            throw new IllegalArgumentException(
                    "a wave has 1 to " + MAX_SUBJOBS_PER_WAVE + " sub-jobs, got " + subJobs.size());
        }
        Objects.requireNonNull(resumeStage, "resumeStage");
        int n = subJobs.size();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(WAIT_FOR_SUBJOBS)) {
            ps.setInt(1, n);
            ps.setInt(2, n);
            ps.setString(3, fanoutStage);
            ps.setString(4, resumeStage);
            ps.setString(5, Objects.requireNonNull(policy, "policy").dbName());
            ps.setString(6, fanoutStage);
            ps.setInt(7, n);
            ps.setInt(8, n);
            bindFence(ps, 9, lease);
            ps.setArray(
                    12,
                    c.createArrayOf("text", subJobs.stream().map(SubJob::type).toArray()));
            ps.setArray(
                    13,
                    c.createArrayOf("text", subJobs.stream().map(SubJob::queue).toArray()));
            ps.setArray(
                    14,
                    c.createArrayOf(
                            "int4", subJobs.stream().map(SubJob::priority).toArray()));
            ps.setArray(
                    15,
                    c.createArrayOf(
                            "text",
                            subJobs.stream()
                                    .map(x -> Json.write(x.parameters()))
                                    .toArray()));
            ps.setArray(
                    16,
                    c.createArrayOf(
                            "int4", subJobs.stream().map(SubJob::maxAttempts).toArray()));
            ps.setString(17, lease.workerId());
            List<Long> ids = new ArrayList<>(n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong("id"));
                }
            }
            if (ids.isEmpty()) {
                return new SpawnLeaseLost(lease);
            }
            if (ids.size() != n) {
                throw new IllegalStateException(
                        "spawned " + ids.size() + " sub-jobs of " + n + " for job " + lease.jobId());
            }
            return new Spawned(List.copyOf(ids));
        } catch (SQLException e) {
            throw new DatabaseException("spawn sub-jobs of job " + lease.jobId(), e);
        }
    }

    /**
     * Graceful shutdown: the given leases go back to approved at once, without using an attempt.
     * Returns the ids that were released (a lease already lost is not).
     */
    public Set<Long> release(String workerId, Collection<Lease> leases) {
        if (leases.isEmpty()) {
            return Set.of();
        }
        Long[] ids = leases.stream().map(Lease::jobId).toArray(Long[]::new);
        Integer[] attempts = leases.stream().map(Lease::attempt).toArray(Integer[]::new);
        Set<Long> released = new HashSet<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(RELEASE)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            ps.setArray(2, c.createArrayOf("int4", attempts));
            ps.setString(3, workerId);
            ps.setString(4, workerId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    released.add(rs.getLong("id"));
                }
            }
            return Set.copyOf(released);
        } catch (SQLException e) {
            throw new DatabaseException("release jobs of " + workerId, e);
        }
    }

    // ---- maintenance ------------------------------------------------------------------------

    /**
     * Returns up to {@code limit} processing jobs whose lease has ended ({@code lease_expires_at}
     * has passed, database clock) to approved, or to failed when their attempts are used up. Each
     * lease's end was written by its holder with its own timeout.
     */
    public ReclaimResult reclaimExpired(int limit) {
        return reclaim("reclaim jobs with expired leases", RECLAIM_EXPIRED, ps -> ps.setInt(1, limit));
    }

    /**
     * Startup recovery: frees the jobs still held by {@code workerIds}, earlier processes of a
     * worker's name that the caller found gone (their leases are fenced off from now on).
     */
    public ReclaimResult recoverPredecessors(Collection<String> workerIds, int limit) {
        if (workerIds.isEmpty()) {
            return new ReclaimResult(0, 0);
        }
        return reclaim("recover jobs of " + workerIds, RECOVER_PREDECESSORS, ps -> {
            ps.setArray(1, ps.getConnection().createArrayOf("text", workerIds.toArray()));
            ps.setInt(2, limit);
        });
    }

    private ReclaimResult reclaim(String what, String sql, Sql.Binder binder) {
        int requeued = 0;
        int failed = 0;
        for (var row :
                Sql.query(dataSource, what, sql, binder, rs -> new Object[] {rs.getString("status"), rs.getInt("n")})) {
            switch ((String) row[0]) {
                case "approved" -> requeued = (Integer) row[1];
                case "failed" -> failed = (Integer) row[1];
                default -> throw new IllegalStateException("reclaim produced status " + row[0]);
            }
        }
        return new ReclaimResult(requeued, failed);
    }

    /** Deletes up to {@code limit} finished top-level jobs older than {@code retention}; returns how many. */
    public int pruneFinished(Duration retention, int limit) {
        return Sql.update(dataSource, "prune finished jobs", PRUNE, ps -> {
            ps.setDouble(1, retention.toNanos() / 1e9);
            ps.setInt(2, limit);
        });
    }

    // ---- plumbing ---------------------------------------------------------------------------

    private Fenced fenced(Lease lease, String what, String sql, Sql.Binder binder) {
        List<Written> rows = Sql.query(
                dataSource,
                what,
                sql,
                binder,
                rs -> new Written(
                        rs.getLong("id"), JobStatus.fromDb(rs.getString("status")), Sql.instant(rs, "run_at")));
        return switch (rows.size()) {
            case 0 -> new LeaseLost(lease);
            case 1 -> rows.getFirst();
            default -> throw new IllegalStateException(what + " changed " + rows.size() + " rows");
        };
    }

    private static void bindFence(PreparedStatement ps, int first, Lease lease) throws SQLException {
        ps.setLong(first, lease.jobId());
        ps.setInt(first + 1, lease.attempt());
        ps.setString(first + 2, lease.workerId());
    }

    static Job job(ResultSet rs) throws SQLException {
        return new Job(
                rs.getLong("id"),
                Sql.nullableLong(rs, "parent_id"),
                rs.getString("type"),
                rs.getString("queue"),
                rs.getInt("priority"),
                Json.parse(rs.getString("parameters")),
                Json.parse(rs.getString("storyboard")),
                Json.parse(rs.getString("result")),
                JobStatus.fromDb(rs.getString("status")),
                rs.getString("current_stage"),
                rs.getInt("progress_percentage"),
                rs.getInt("attempt"),
                rs.getInt("max_attempts"),
                Sql.instant(rs, "run_at"),
                rs.getString("last_error"),
                rs.getString("locked_by"),
                Sql.instant(rs, "heartbeat_at"),
                Sql.instant(rs, "lease_expires_at"),
                rs.getInt("subjobs_total"),
                rs.getInt("subjobs_open"),
                rs.getString("fanout_stage"),
                rs.getString("resume_stage"),
                SubJobFailurePolicy.fromDb(rs.getString("on_subjob_failure")),
                rs.getString("idempotency_key"),
                rs.getString("created_by"),
                rs.getString("approved_by"),
                Sql.instant(rs, "created_at"),
                Sql.instant(rs, "approved_at"),
                Sql.instant(rs, "started_at"),
                Sql.instant(rs, "finished_at"),
                Sql.instant(rs, "updated_at"));
    }

    static JobEvent event(ResultSet rs) throws SQLException {
        return new JobEvent(
                rs.getLong("id"),
                rs.getLong("job_id"),
                rs.getString("kind"),
                JobStatus.fromDb(rs.getString("status")),
                rs.getInt("attempt"),
                rs.getString("worker_id"),
                rs.getString("actor"),
                Sql.nullableInt(rs, "progress_percentage"),
                rs.getString("stage"),
                rs.getString("message"),
                Sql.instant(rs, "created_at"));
    }

    /** Convenience for tests and tools: the database's clock. */
    public Instant databaseNow() {
        return Sql.query(dataSource, "read the clock", "SELECT now() AS now", ps -> {}, rs -> Sql.instant(rs, "now"))
                .getFirst();
    }
}
