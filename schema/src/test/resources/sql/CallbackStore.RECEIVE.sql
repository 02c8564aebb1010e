WITH args AS (SELECT ?::bigint AS id, ?::uuid AS nonce, ?::jsonb AS payload),
asked AS MATERIALIZED (
    SELECT c.job_id, c.attempt, c.expires_at, c.received_at FROM job_callbacks c, args
     WHERE c.job_id = args.id AND c.nonce = args.nonce
       FOR UPDATE OF c),
current AS MATERIALIZED (
    SELECT j.id, j.status FROM jobs j JOIN asked a ON a.job_id = j.id
     WHERE (j.status = 'processing' AND j.attempt = a.attempt)
        OR (j.status = 'approved' AND j.attempt = a.attempt - 1)
       FOR UPDATE OF j),
received AS (
    UPDATE job_callbacks c SET received_at = now(), payload = args.payload
      FROM args, asked a, current
     WHERE c.job_id = a.job_id AND a.received_at IS NULL
       AND (a.expires_at IS NULL OR a.expires_at > now())
    RETURNING c.job_id),
woken AS (
    UPDATE jobs j SET run_at = now(), updated_at = now()
      FROM received r, current cur
     WHERE j.id = r.job_id AND cur.id = j.id AND cur.status = 'approved'
    RETURNING j.*),
changes AS (
    SELECT w.id, w.queue, 'callback_received'::job_event_kind AS kind, w.status, w.attempt,
           NULL::text AS worker_id, NULL::text AS actor, w.progress_percentage, w.current_stage AS stage,
           'called back; runs again' AS message, NULL::timestamptz AS attempt_started_at,
           NULL::bigint AS event_id
      FROM woken w),
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
SELECT (SELECT count(*) FROM asked) AS asked, (SELECT count(*) FROM current) AS current,
       (SELECT count(*) FROM received) AS received,
       (SELECT bool_or(received_at IS NOT NULL) FROM asked) AS used,
       (SELECT bool_or(expires_at <= now()) FROM asked) AS expired,
       (SELECT count(*) FROM notified) AS notified
