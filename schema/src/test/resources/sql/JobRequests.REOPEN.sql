WITH args AS (SELECT ?::bigint AS id, ?::text AS actor, ?::jsonb AS storyboard, ?::int AS revision),
prior AS MATERIALIZED (
    SELECT j.id, j.storyboard, j.storyboard_revision, j.status, j.result FROM jobs j, args
     WHERE j.id = args.id AND j.parent_id IS NULL AND j.status IN ('completed', 'failed', 'cancelled')
       AND j.storyboard_revision = args.revision
       FOR UPDATE OF j),
revised AS (
    UPDATE jobs j
       SET storyboard = args.storyboard, storyboard_revision = j.storyboard_revision + 1,
           status = 'pending', review_gate = 'plan', review_summary = NULL,
           redo_stage = NULL, review_approvals = 0, approved_by = NULL, approved_at = NULL,
           attempt = 0, run_at = now(), finished_at = NULL, finished_event_id = NULL,
           completed_by = NULL, result = NULL, progress_percentage = 0, current_stage = NULL,
           subjobs_total = 0, subjobs_open = 0, updated_at = now()
      FROM args, prior p
     WHERE j.id = p.id
    RETURNING j.*),
unwaited AS (DELETE FROM job_callbacks c USING revised r WHERE c.job_id = r.id RETURNING c.job_id),
kept AS (
    INSERT INTO job_storyboards (job_id, revision, storyboard, replaced_by, ended_as, result)
    SELECT p.id, p.storyboard_revision, p.storyboard, args.actor, p.status, p.result
      FROM prior p JOIN revised r ON r.id = p.id, args
    RETURNING job_id),
changes AS (
    SELECT r.id, r.queue, 'revised'::job_event_kind AS kind, r.status, r.attempt, NULL::text AS worker_id,
           args.actor, r.progress_percentage, r.current_stage AS stage,
           'storyboard revision ' || r.storyboard_revision || ', after revision ' || p.storyboard_revision
               || ' ' || p.status || '; awaiting review' AS message,
           NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
      FROM revised r JOIN prior p ON p.id = r.id, args),
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
review_summary, gate_round, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM kept) AS kept,
       (SELECT count(*) FROM unwaited) AS unwaited
  FROM revised
