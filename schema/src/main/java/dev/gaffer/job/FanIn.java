package dev.gaffer.job;

/**
 * The fan-in: what a sub-job reaching a terminal state does to the parent that waits for it, as
 * CTEs that every statement ending sub-jobs splices in (completion, failure, reclaim, cancel).
 *
 * <p>It holds the one transition that no statement of its own makes, <b>resume</b>: waiting →
 * approved, when the last open sub-job of a parent finishes. The parent becomes claimable at
 * once ({@code run_at = now()}), at its {@code resume_stage}, and its handler is called again
 * with the sub-jobs' results. Under {@code fail_fast} a sub-job that fails for good instead moves
 * its parent waiting → failed and cancels the parent's unfinished sub-jobs. While it waits, a
 * parent's progress is the finished share of its sub-jobs, scaled to {@link
 * #SUBJOBS_PROGRESS_SHARE}.
 */
public final class FanIn {

    /**
     * A waiting job's progress is the finished share of its sub-jobs scaled to this, so that it
     * never shows 100 % before it completed: what it does after it resumes (the video's stitch)
     * reports the rest. 100 % means completed (CHECK jobs_full_progress_iff_completed).
     */
    public static final int SUBJOBS_PROGRESS_SHARE = 90;

    private FanIn() {}

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
    static String of(String changed) {
        return level("finished", "fanin", changed)
                + ",\nfanin_failed AS (SELECT id, parent_id, status, last_error FROM fanin WHERE status = 'failed'),\n"
                + level(
                        "fanin_failed",
                        "fanin2",
                        changed + " UNION ALL SELECT id FROM fanin UNION ALL SELECT id FROM fanin_siblings");
    }

    private static String level(String finished, String name, String changed) {
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
                           finished_event_id = CASE WHEN %4$s THEN nextval('job_events_id_seq') ELSE p.finished_event_id END,
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
                              p.current_stage, p.last_error, p.finished_event_id),
                %1$s_siblings AS (
                    UPDATE jobs s
                       SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),
                           updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
                           subjobs_open = 0
                      FROM %1$s f
                     WHERE s.parent_id = f.id AND f.status = 'failed'
                       AND s.status IN ('pending', 'approved', 'processing', 'waiting')
                       AND s.id NOT IN (%3$s)
                    RETURNING s.id, s.parent_id, s.queue, s.status, s.attempt, s.progress_percentage, s.current_stage,
                              s.finished_event_id)""".formatted(name, finished, changed, failFast, SUBJOBS_PROGRESS_SHARE);
    }

    /**
     * The events of {@link #of}: resumed, progress (the roll-up), failed, and cancelled siblings,
     * with the columns of JobHistory's {@code changes}, named, so that it may also stand alone as
     * a statement's {@code changes}. A failed parent's and a cancelled sibling's event take the id
     * their row's {@code finished_event_id} took.
     */
    static final String CHANGES = changes("fanin") + "\nUNION ALL\n" + changes("fanin2");

    private static String changes(String name) {
        return """
                SELECT id, queue,
                       CASE status WHEN 'approved' THEN 'resumed' WHEN 'failed' THEN 'failed' ELSE 'progress' END::job_event_kind
                           AS kind,
                       status, attempt, NULL::text AS worker_id, NULL::text AS actor, progress_percentage,
                       current_stage AS stage, CASE WHEN status = 'failed' THEN last_error END AS message,
                       NULL::timestamptz AS attempt_started_at,
                       CASE WHEN status = 'failed' THEN finished_event_id END AS event_id
                  FROM %1$s
                UNION ALL
                SELECT id, queue, 'cancelled', status, attempt, NULL, NULL, progress_percentage, current_stage,
                       'cancelled: sub-job ' || parent_id || ' failed fast', NULL, finished_event_id
                  FROM %1$s_siblings""".formatted(name);
    }
}
