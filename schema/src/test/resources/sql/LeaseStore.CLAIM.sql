WITH claim AS (SELECT ?::text AS worker, ?::bigint[] AS exclude, ?::text[] AS types, ?::int AS slots,
                      now() + make_interval(secs => ?::double precision) AS lease_until, set_config('synchronous_commit', 'off', true) AS commit_mode),
candidates AS MATERIALIZED (
    SELECT c.id, c.priority, c.run_at
      FROM claim,
           unnest(?::text[], ?::smallint[], ?::timestamptz[], ?::bigint[])
               AS q(name, after_priority, after_run_at, after_id)
     CROSS JOIN LATERAL (
           SELECT * FROM (
               SELECT id, priority, run_at FROM jobs
                WHERE q.after_id IS NULL
                  AND status = 'approved' AND queue = q.name AND run_at <= now()
                  AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                ORDER BY priority DESC, run_at, id
                LIMIT claim.slots
                  FOR UPDATE SKIP LOCKED) from_head
           UNION ALL
           SELECT * FROM (
               SELECT id, priority, run_at FROM jobs
                WHERE q.after_id IS NOT NULL
                  AND priority = q.after_priority AND (run_at, id) > (q.after_run_at, q.after_id)
                  AND status = 'approved' AND queue = q.name AND run_at <= now()
                  AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                ORDER BY run_at, id
                LIMIT claim.slots
                  FOR UPDATE SKIP LOCKED) same_priority
           UNION ALL
           SELECT * FROM (
               SELECT id, priority, run_at FROM jobs
                WHERE q.after_id IS NOT NULL
                  AND priority < q.after_priority
                  AND status = 'approved' AND queue = q.name AND run_at <= now()
                  AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                ORDER BY priority DESC, run_at, id
                LIMIT claim.slots
                  FOR UPDATE SKIP LOCKED) lower_priorities
           LIMIT claim.slots) c
     ORDER BY c.priority DESC, c.run_at, c.id
     LIMIT (SELECT slots FROM claim)),
claimed AS (
    UPDATE jobs j
       SET status = 'processing', attempt = j.attempt + 1, locked_by = (SELECT worker FROM claim),
           heartbeat_at = now(), claimed_at = now(),
           lease_expires_at = (SELECT lease_until FROM claim),
           started_at = COALESCE(j.started_at, now()), updated_at = now()
     WHERE j.id = ANY (ARRAY(SELECT id FROM candidates))
    RETURNING j.*)
SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
review_summary, gate_round FROM claimed ORDER BY priority DESC, run_at, id
