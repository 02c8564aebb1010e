WITH beats AS (
    SELECT * FROM unnest(?::bigint[], ?::int[], ?::int[], ?::text[]) AS b(id, attempt, progress, stage)),
held AS (
    UPDATE jobs j
       SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => ?::double precision),
           updated_at = now(),
           progress_percentage = COALESCE(LEAST(b.progress, 99), j.progress_percentage),
           current_stage = COALESCE(b.stage, j.current_stage)
      FROM beats b
     WHERE j.id = b.id AND j.attempt = b.attempt AND j.locked_by = ?
       AND j.status = (SELECT 'processing'::job_status)
    RETURNING j.id, j.queue, j.status, j.attempt, j.locked_by, j.progress_percentage, j.current_stage,
              (b.progress IS NOT NULL OR b.stage IS NOT NULL) AS reported),
changes AS (
    SELECT id, queue, 'progress'::job_event_kind AS kind, status, attempt, locked_by AS worker_id,
           NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message,
           NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
      FROM held WHERE reported),
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
SELECT id, (SELECT count(*) FROM notified) AS notified FROM held
