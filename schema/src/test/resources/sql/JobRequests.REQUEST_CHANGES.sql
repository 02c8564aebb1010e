WITH args AS (SELECT ?::bigint AS id, ?::text AS actor, ?::text AS comment, ?::int AS revision, ?::text AS gate),
decided AS (
    UPDATE jobs j
       SET status = CASE WHEN j.review_gate <> 'plan' THEN 'approved' ELSE 'pending' END::job_status,
           current_stage = CASE WHEN j.review_gate <> 'plan' THEN j.redo_stage ELSE j.current_stage END, updated_at = now()
      FROM args
     WHERE j.id = args.id AND j.status = 'pending' AND (args.gate IS NULL OR j.review_gate = args.gate)
   AND (args.revision IS NULL OR CASE WHEN j.review_gate = 'plan' THEN j.storyboard_revision ELSE j.gate_round END = args.revision)
    RETURNING j.*),
reviewed AS (
    INSERT INTO job_reviews (job_id, job_type, gate, revision, decision, reviewer, requested_by, comment)
    SELECT d.id, d.type, d.review_gate, CASE WHEN d.review_gate = 'plan' THEN d.storyboard_revision ELSE d.gate_round END, 'changes_requested', args.actor, d.created_by, args.comment
      FROM decided d, args
    RETURNING id),
changes AS (
    SELECT d.id, d.queue, 'changes_requested'::job_event_kind AS kind, d.status, d.attempt, NULL::text AS worker_id,
           args.actor, d.progress_percentage, d.current_stage AS stage, args.comment AS message,
           NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
      FROM decided d, args),
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
review_summary, gate_round, (SELECT count(*) FROM notified) AS notified FROM decided
