WITH args AS (SELECT ?::text AS worker),
outcomes AS (
    SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
done AS (
    UPDATE jobs j
       SET status = 'completed', result = o.result::jsonb, progress_percentage = 100, finished_at = now(),
           updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
      FROM outcomes o
     WHERE j.id = o.id AND j.attempt = o.attempt AND j.locked_by = (SELECT worker FROM args)
       AND j.status = (SELECT 'processing'::job_status) AND j.parent_id IS NULL
    RETURNING j.*),
changes AS (
    SELECT d.id, d.queue, 'completed'::job_event_kind AS kind, d.status, d.attempt, args.worker AS worker_id,
           NULL::text AS actor, d.progress_percentage, d.current_stage AS stage, NULL::text AS message,
           d.claimed_at AS attempt_started_at
      FROM done d, args),
events AS (
    INSERT INTO job_events (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
                            attempt_started_at)
    SELECT id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message, attempt_started_at
      FROM changes
    RETURNING id),
notified AS (
    SELECT pg_notify(CASE WHEN h.approved THEN 'gaffer_jobs' ELSE 'gaffer_events' END,
                     json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
      FROM (SELECT DISTINCT kind, status = 'approved' AS approved, id, queue
              FROM changes
             WHERE kind NOT IN ('progress', 'completed')) h)
SELECT id, (SELECT count(*) FROM notified) AS notified FROM done
