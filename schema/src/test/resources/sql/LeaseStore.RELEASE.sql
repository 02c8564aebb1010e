WITH args AS (SELECT ?::text AS worker),
leases AS (
    SELECT * FROM unnest(?::bigint[], ?::int[]) AS l(id, attempt)),
released AS (
    UPDATE jobs j
       SET status = 'approved', attempt = j.attempt - 1, run_at = now(), locked_by = NULL,
           heartbeat_at = NULL, lease_expires_at = NULL, updated_at = now()
      FROM leases l
     WHERE j.id = l.id AND j.attempt = l.attempt AND j.locked_by = (SELECT worker FROM args)
       AND j.status = 'processing'
    RETURNING j.*),
changes AS (
    SELECT r.id, r.queue, 'released'::job_event_kind AS kind, r.status, r.attempt, args.worker AS worker_id,
           NULL::text AS actor, r.progress_percentage, r.current_stage AS stage,
           'worker shut down before the job finished' AS message, r.claimed_at AS attempt_started_at,
           NULL::bigint AS event_id
      FROM released r, args),
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
SELECT id, (SELECT count(*) FROM notified) AS notified FROM released
