WITH due AS MATERIALIZED (
    SELECT j.id, j.type, j.queue, j.status, j.attempt, j.progress_percentage, j.current_stage, j.created_by,
           j.review_gate, CASE WHEN j.review_gate = 'plan' THEN j.storyboard_revision ELSE j.gate_round END AS revision, p.expires_after, p.on_expiry
      FROM jobs j
      JOIN review_policies p ON p.job_type = j.type AND p.gate = j.review_gate
     WHERE j.status = 'pending' AND p.expires_after IS NOT NULL
       AND j.updated_at < now() - p.expires_after
       AND NOT EXISTS (SELECT 1 FROM job_reviews r
                        WHERE r.job_id = j.id AND r.gate = j.review_gate AND r.revision = CASE WHEN j.review_gate = 'plan' THEN j.storyboard_revision ELSE j.gate_round END
                          AND r.decision = 'escalated')
     ORDER BY j.updated_at
     LIMIT ?
       FOR UPDATE OF j SKIP LOCKED),
expired AS (
    UPDATE jobs j SET status = 'cancelled', finished_at = now(),
           finished_event_id = nextval('job_events_id_seq'), updated_at = now()
      FROM due d
     WHERE j.id = d.id AND j.status = 'pending' AND d.on_expiry = 'cancel'
    RETURNING j.*, d.expires_after, d.revision),
escalated AS (SELECT * FROM due WHERE on_expiry = 'escalate'),
reviewed AS (
    INSERT INTO job_reviews (job_id, job_type, gate, revision, decision, reviewer, requested_by, comment)
    SELECT id, type, review_gate, revision, 'expired'::review_decision, 'gaffer', created_by,
           'no decision within ' || expires_after || ' (the review policy of ' || type || ')'
      FROM expired
    UNION ALL
    SELECT id, type, review_gate, revision, 'escalated', 'gaffer', created_by,
           'no decision within ' || expires_after || ' (the review policy of ' || type
           || '): escalated, an admin decides'
      FROM escalated
    RETURNING id),
changes AS (
    SELECT id, queue, 'cancelled'::job_event_kind AS kind, status, attempt, NULL::text AS worker_id,
           'gaffer' AS actor, progress_percentage, current_stage AS stage,
           'review expired: no decision within ' || expires_after AS message,
           NULL::timestamptz AS attempt_started_at, finished_event_id AS event_id
      FROM expired
    UNION ALL
    SELECT id, queue, 'escalated', status, attempt, NULL, 'gaffer', progress_percentage, current_stage,
           'review of gate ' || review_gate || ' escalated: no decision within ' || expires_after
           || '; an admin decides', NULL, NULL
      FROM escalated),
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
SELECT (SELECT count(*) FROM expired) + (SELECT count(*) FROM escalated) AS expired,
       (SELECT count(*) FROM notified) AS notified
