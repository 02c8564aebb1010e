WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker, ?::text AS gate,
                     ?::text AS resume_stage, ?::text AS redo_stage, ?::jsonb AS summary),
gated AS (
    UPDATE jobs j
       SET status = 'pending', attempt = j.attempt - 1, locked_by = NULL, heartbeat_at = NULL,
           lease_expires_at = NULL, review_gate = args.gate, gate_round = j.gate_round + 1,
           review_approvals = 0, review_summary = args.summary, resume_stage = args.resume_stage,
           redo_stage = args.redo_stage, current_stage = 'awaiting review: ' || args.gate, updated_at = now()
      FROM args
     WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker
       AND j.status = 'processing' AND j.parent_id IS NULL
    RETURNING j.*),
changes AS (
    SELECT g.id, g.queue, 'awaiting_review'::job_event_kind AS kind, g.status, g.attempt,
           args.worker AS worker_id, NULL::text AS actor, g.progress_percentage, g.current_stage AS stage,
           'awaiting review of gate ' || g.review_gate || ' (stop ' || g.gate_round || ')' AS message,
           g.claimed_at AS attempt_started_at, NULL::bigint AS event_id
      FROM gated g, args),
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
SELECT id, (SELECT count(*) FROM notified) AS notified FROM gated
