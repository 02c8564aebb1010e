WITH args AS (SELECT ?::bigint AS id, ?::text AS actor),
parent AS MATERIALIZED (
    SELECT p.id FROM jobs p
     WHERE p.id = (SELECT j.parent_id FROM jobs j, args WHERE j.id = args.id) AND p.status = 'waiting'
       FOR UPDATE),
target AS MATERIALIZED (
    SELECT j.id FROM jobs j
     WHERE j.id = (SELECT id FROM args) AND j.status IN ('failed', 'cancelled')
       AND (j.parent_id IS NULL OR j.parent_id IN (SELECT id FROM parent))
       FOR UPDATE),
rerun AS (
    UPDATE jobs c
       SET status = 'approved', attempt = 0, run_at = now(), finished_at = NULL, finished_event_id = NULL,
           result = NULL, progress_percentage = 0, current_stage = NULL, updated_at = now()
      FROM target t
     WHERE c.parent_id = t.id AND c.status IN ('failed', 'cancelled')
    RETURNING c.*),
rerun_count AS (SELECT count(*)::int AS n FROM rerun),
-- A retry starts over: a wait for a callback of the failed attempt ends (V026).
unwaited AS (DELETE FROM job_callbacks c USING target t WHERE c.job_id = t.id RETURNING c.job_id),
retried AS (
    UPDATE jobs j
       SET status = CASE WHEN r.n > 0 THEN 'waiting' ELSE 'approved' END::job_status,
           subjobs_open = r.n, attempt = 0, run_at = now(), finished_at = NULL, finished_event_id = NULL,
           result = NULL,
           current_stage = CASE WHEN r.n > 0
                                THEN concat_ws(' ', j.fanout_stage, (j.subjobs_total - r.n) || '/' || j.subjobs_total)
                                ELSE j.resume_stage END,
           progress_percentage = CASE WHEN r.n > 0 THEN (90 * (j.subjobs_total - r.n)) / j.subjobs_total ELSE 0 END,
           approved_by = COALESCE(j.approved_by, args.actor), approved_at = COALESCE(j.approved_at, now()),
           updated_at = now()
      FROM target t, rerun_count r, args
     WHERE j.id = t.id
    RETURNING j.*),
reopened AS (
    UPDATE jobs p SET subjobs_open = p.subjobs_open + 1, updated_at = now()
      FROM retried r
     WHERE p.id = r.parent_id
    RETURNING p.id),
changes AS (
    SELECT r.id, r.queue, 'retried'::job_event_kind AS kind, r.status, r.attempt, NULL::text AS worker_id,
           args.actor, r.progress_percentage, r.current_stage AS stage, 'retried by a person' AS message,
           NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
      FROM retried r, args
    UNION ALL
    SELECT id, queue, 'retried', status, attempt, NULL, NULL, progress_percentage, current_stage,
           'rerun with job ' || parent_id, NULL, NULL
      FROM rerun),
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
review_summary, gate_round, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM reopened) AS reopened,
       (SELECT count(*) FROM unwaited) AS unwaited
  FROM retried
