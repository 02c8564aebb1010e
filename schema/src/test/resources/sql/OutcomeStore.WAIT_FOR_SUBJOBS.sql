WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker, ?::text AS fanout_stage,
                     ?::text AS resume_stage, ?::subjob_failure_policy AS policy),
specs AS (
    SELECT * FROM unnest(?::text[], ?::text[], ?::int[], ?::text[], ?::int[])
           WITH ORDINALITY AS c(type, queue, priority, parameters, max_attempts, ord)),
wave AS (SELECT count(*)::int AS n FROM specs),
parent AS (
    UPDATE jobs j
       SET status = 'waiting', attempt = j.attempt - 1, locked_by = NULL, heartbeat_at = NULL,
           lease_expires_at = NULL, subjobs_total = j.subjobs_total + w.n, subjobs_open = j.subjobs_open + w.n,
           fanout_stage = args.fanout_stage, resume_stage = args.resume_stage, on_subjob_failure = args.policy,
           current_stage = concat_ws(' ', args.fanout_stage, j.subjobs_total || '/' || (j.subjobs_total + w.n)),
           progress_percentage = (90 * j.subjobs_total) / (j.subjobs_total + w.n),
           updated_at = now()
      FROM args, wave w
     WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker AND j.status = 'processing'
    RETURNING j.*),
children AS (
    INSERT INTO jobs (parent_id, type, queue, priority, parameters, max_attempts, status,
                      approved_by, approved_at)
    SELECT p.id, c.type, COALESCE(c.queue, p.queue), c.priority, c.parameters::jsonb, c.max_attempts,
           'approved', p.approved_by, now()
      FROM parent p
     CROSS JOIN specs c
     ORDER BY c.ord
    RETURNING *),
changes AS (
    SELECT p.id, p.queue, 'waiting'::job_event_kind AS kind, p.status, p.attempt, args.worker AS worker_id,
           NULL::text AS actor, p.progress_percentage, p.current_stage AS stage, NULL::text AS message,
           p.claimed_at AS attempt_started_at, NULL::bigint AS event_id
      FROM parent p, args
    UNION ALL
    SELECT id, queue, 'created', status, attempt, NULL, NULL, progress_percentage, current_stage,
           'sub-job of ' || parent_id, NULL, NULL
      FROM children),
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
SELECT c.id, (SELECT count(*) FROM notified) AS notified FROM children c ORDER BY c.id
