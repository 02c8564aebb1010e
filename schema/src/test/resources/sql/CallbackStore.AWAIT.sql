WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker,
                     ?::double precision AS timeout_seconds, ?::double precision AS poll_seconds,
                     ?::text AS resume_stage),
held AS (
    SELECT j.id, j.attempt FROM jobs j, args
     WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker
       AND j.status = 'processing'),
wait AS (
    INSERT INTO job_callbacks AS c (job_id, attempt, nonce, expires_at)
    SELECT h.id, h.attempt, gen_random_uuid(), now() + make_interval(secs => args.timeout_seconds)
      FROM held h, args
    ON CONFLICT (job_id) DO UPDATE
       SET attempt = EXCLUDED.attempt,
           nonce = CASE WHEN c.attempt = EXCLUDED.attempt THEN c.nonce ELSE EXCLUDED.nonce END,
           expires_at = CASE WHEN c.attempt = EXCLUDED.attempt
                             THEN COALESCE(c.expires_at, EXCLUDED.expires_at) ELSE EXCLUDED.expires_at END,
           received_at = CASE WHEN c.attempt = EXCLUDED.attempt THEN c.received_at END,
           payload = CASE WHEN c.attempt = EXCLUDED.attempt THEN c.payload END
    RETURNING c.expires_at, c.received_at),
waiting AS (
    UPDATE jobs j
       SET status = 'approved', attempt = j.attempt - 1, locked_by = NULL, heartbeat_at = NULL,
           lease_expires_at = NULL, current_stage = COALESCE(args.resume_stage, j.current_stage),
           updated_at = now(),
           run_at = CASE WHEN w.received_at IS NOT NULL THEN now()
                         ELSE least(w.expires_at, now() + make_interval(secs => args.poll_seconds)) END
      FROM args, held h, wait w
     WHERE j.id = h.id AND (w.received_at IS NOT NULL OR w.expires_at > now())
    RETURNING j.*),
changes AS (
    SELECT g.id, g.queue, 'awaiting_callback'::job_event_kind AS kind, g.status, g.attempt,
           args.worker AS worker_id, NULL::text AS actor, g.progress_percentage, g.current_stage AS stage,
           CASE WHEN w.received_at IS NOT NULL THEN 'called back already; runs again at once'
                ELSE 'awaiting a callback until ' || to_char(w.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                     || '; next look ' || to_char(g.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS message,
           g.claimed_at AS attempt_started_at, NULL::bigint AS event_id
      FROM waiting g, wait w, args),
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
SELECT (SELECT count(*) FROM held) AS held, (SELECT count(*) FROM waiting) AS waited,
       (SELECT count(*) FROM notified) AS notified
