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
events AS (
    INSERT INTO job_events (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message)
    SELECT id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message FROM changes
    RETURNING id),
notified AS (
    SELECT pg_notify(CASE WHEN h.approved THEN 'gaffer_jobs' ELSE 'gaffer_events' END,
                     json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
      FROM (SELECT DISTINCT kind, status = 'approved' AS approved,
                   CASE WHEN kind IN ('claimed', 'progress', 'completed') THEN NULL ELSE id END AS id,
                   queue
              FROM changes) h)
SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, (SELECT count(*) FROM notified) AS notified FROM inserted
