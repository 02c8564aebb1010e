WITH RECURSIVE args AS (SELECT ?::bigint AS id, ?::text AS actor),
tree AS (
    SELECT j.id, 0 AS depth FROM jobs j, args WHERE j.id = args.id AND j.status IN ('pending', 'approved', 'processing', 'waiting')
    UNION ALL
    SELECT c.id, t.depth + 1 FROM jobs c JOIN tree t ON c.parent_id = t.id WHERE c.status IN ('pending', 'approved', 'processing', 'waiting')),
locked AS MATERIALIZED (
    SELECT j.id, j.locked_by AS holder, j.claimed_at AS holder_since FROM jobs j JOIN tree t ON t.id = j.id
     WHERE j.status IN ('pending', 'approved', 'processing', 'waiting')
     ORDER BY t.depth DESC, j.id
       FOR UPDATE OF j),
cancelled AS (
    UPDATE jobs j
       SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),
           updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
           subjobs_open = 0
      FROM locked l
     WHERE j.id = l.id AND j.status IN ('pending', 'approved', 'processing', 'waiting')
    RETURNING j.*),
finished AS (SELECT id, parent_id, status, last_error FROM cancelled),
fanin_counts AS (
    SELECT f.parent_id, count(*)::int AS n,
           min(f.id) FILTER (WHERE f.status = 'failed') AS failed_child,
           (array_agg(f.last_error ORDER BY f.id) FILTER (WHERE f.status = 'failed'))[1] AS failed_error
      FROM finished f WHERE f.parent_id IS NOT NULL GROUP BY f.parent_id),
fanin AS (
    UPDATE jobs p
       SET subjobs_open = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN 0 ELSE p.subjobs_open - f.n END,
           status = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN 'failed'::job_status
                         WHEN p.subjobs_open = f.n THEN 'approved'::job_status ELSE p.status END,
           finished_at = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN now() ELSE p.finished_at END,
           finished_event_id = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN nextval('job_events_id_seq') ELSE p.finished_event_id END,
           last_error = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL)
                             THEN concat('sub-job ', f.failed_child, ' failed: ', f.failed_error)
                             ELSE p.last_error END,
           run_at = CASE WHEN NOT (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) AND p.subjobs_open = f.n THEN now() ELSE p.run_at END,
           current_stage = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN p.current_stage
                                WHEN p.subjobs_open = f.n THEN p.resume_stage
                                ELSE concat_ws(' ', p.fanout_stage,
                                         (p.subjobs_total - p.subjobs_open + f.n) || '/' || p.subjobs_total) END,
           progress_percentage = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN p.progress_percentage
                                      ELSE (90 * (p.subjobs_total - p.subjobs_open + f.n)) / p.subjobs_total END,
           updated_at = now()
      FROM fanin_counts f
     WHERE p.id = f.parent_id AND p.status = 'waiting' AND p.id NOT IN (SELECT id FROM cancelled)
    RETURNING p.id, p.parent_id, p.queue, p.status, p.attempt, p.progress_percentage,
              p.current_stage, p.last_error, p.finished_event_id),
fanin_siblings AS (
    UPDATE jobs s
       SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),
           updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
           subjobs_open = 0
      FROM fanin f
     WHERE s.parent_id = f.id AND f.status = 'failed'
       AND s.status IN ('pending', 'approved', 'processing', 'waiting')
       AND s.id NOT IN (SELECT id FROM cancelled)
    RETURNING s.id, s.parent_id, s.queue, s.status, s.attempt, s.progress_percentage, s.current_stage,
              s.finished_event_id),
fanin_failed AS (SELECT id, parent_id, status, last_error FROM fanin WHERE status = 'failed'),
fanin2_counts AS (
    SELECT f.parent_id, count(*)::int AS n,
           min(f.id) FILTER (WHERE f.status = 'failed') AS failed_child,
           (array_agg(f.last_error ORDER BY f.id) FILTER (WHERE f.status = 'failed'))[1] AS failed_error
      FROM fanin_failed f WHERE f.parent_id IS NOT NULL GROUP BY f.parent_id),
fanin2 AS (
    UPDATE jobs p
       SET subjobs_open = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN 0 ELSE p.subjobs_open - f.n END,
           status = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN 'failed'::job_status
                         WHEN p.subjobs_open = f.n THEN 'approved'::job_status ELSE p.status END,
           finished_at = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN now() ELSE p.finished_at END,
           finished_event_id = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN nextval('job_events_id_seq') ELSE p.finished_event_id END,
           last_error = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL)
                             THEN concat('sub-job ', f.failed_child, ' failed: ', f.failed_error)
                             ELSE p.last_error END,
           run_at = CASE WHEN NOT (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) AND p.subjobs_open = f.n THEN now() ELSE p.run_at END,
           current_stage = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN p.current_stage
                                WHEN p.subjobs_open = f.n THEN p.resume_stage
                                ELSE concat_ws(' ', p.fanout_stage,
                                         (p.subjobs_total - p.subjobs_open + f.n) || '/' || p.subjobs_total) END,
           progress_percentage = CASE WHEN (p.on_subjob_failure = 'fail_fast' AND f.failed_child IS NOT NULL) THEN p.progress_percentage
                                      ELSE (90 * (p.subjobs_total - p.subjobs_open + f.n)) / p.subjobs_total END,
           updated_at = now()
      FROM fanin2_counts f
     WHERE p.id = f.parent_id AND p.status = 'waiting' AND p.id NOT IN (SELECT id FROM cancelled UNION ALL SELECT id FROM fanin UNION ALL SELECT id FROM fanin_siblings)
    RETURNING p.id, p.parent_id, p.queue, p.status, p.attempt, p.progress_percentage,
              p.current_stage, p.last_error, p.finished_event_id),
fanin2_siblings AS (
    UPDATE jobs s
       SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),
           updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
           subjobs_open = 0
      FROM fanin2 f
     WHERE s.parent_id = f.id AND f.status = 'failed'
       AND s.status IN ('pending', 'approved', 'processing', 'waiting')
       AND s.id NOT IN (SELECT id FROM cancelled UNION ALL SELECT id FROM fanin UNION ALL SELECT id FROM fanin_siblings)
    RETURNING s.id, s.parent_id, s.queue, s.status, s.attempt, s.progress_percentage, s.current_stage,
              s.finished_event_id),
changes AS (
    SELECT c.id, c.queue, 'cancelled'::job_event_kind AS kind, c.status, c.attempt, l.holder AS worker_id,
           args.actor, c.progress_percentage, c.current_stage AS stage,
           CASE WHEN c.id = args.id THEN NULL ELSE 'cancelled with job ' || args.id END AS message,
           CASE WHEN l.holder IS NOT NULL THEN l.holder_since END AS attempt_started_at,
           c.finished_event_id AS event_id
      FROM cancelled c JOIN locked l ON l.id = c.id, args
    UNION ALL
    SELECT id, queue,
       CASE status WHEN 'approved' THEN 'resumed' WHEN 'failed' THEN 'failed' ELSE 'progress' END::job_event_kind
           AS kind,
       status, attempt, NULL::text AS worker_id, NULL::text AS actor, progress_percentage,
       current_stage AS stage, CASE WHEN status = 'failed' THEN last_error END AS message,
       NULL::timestamptz AS attempt_started_at,
       CASE WHEN status = 'failed' THEN finished_event_id END AS event_id
  FROM fanin
UNION ALL
SELECT id, queue, 'cancelled', status, attempt, NULL, NULL, progress_percentage, current_stage,
       'cancelled: sub-job ' || parent_id || ' failed fast', NULL, finished_event_id
  FROM fanin_siblings
UNION ALL
SELECT id, queue,
       CASE status WHEN 'approved' THEN 'resumed' WHEN 'failed' THEN 'failed' ELSE 'progress' END::job_event_kind
           AS kind,
       status, attempt, NULL::text AS worker_id, NULL::text AS actor, progress_percentage,
       current_stage AS stage, CASE WHEN status = 'failed' THEN last_error END AS message,
       NULL::timestamptz AS attempt_started_at,
       CASE WHEN status = 'failed' THEN finished_event_id END AS event_id
  FROM fanin2
UNION ALL
SELECT id, queue, 'cancelled', status, attempt, NULL, NULL, progress_percentage, current_stage,
       'cancelled: sub-job ' || parent_id || ' failed fast', NULL, finished_event_id
  FROM fanin2_siblings),
events AS (
    INSERT INTO job_events (id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage,
                            message, attempt_started_at)
    OVERRIDING SYSTEM VALUE
    SELECT COALESCE(event_id, nextval('job_events_id_seq')), id, kind, status, attempt, worker_id, actor,
           progress_percentage, stage, message, attempt_started_at
      FROM changes
    RETURNING id),
notified AS (
    SELECT pg_notify(CASE WHEN h.approved THEN 'gaffer_jobs' ELSE 'gaffer_events' END,
                     json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
      FROM (SELECT DISTINCT kind, status = 'approved' AS approved, id, queue
              FROM changes
             WHERE kind NOT IN ('progress')) h)
SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
review_summary, gate_round, (SELECT count(*) FROM notified) AS notified FROM cancelled WHERE id = (SELECT id FROM args)
