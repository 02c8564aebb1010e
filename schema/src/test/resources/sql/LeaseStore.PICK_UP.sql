WITH claim AS (SELECT ?::text AS worker, ?::bigint AS id, ?::text[] AS queues, ?::text[] AS types,
                      now() + make_interval(secs => ?::double precision) AS lease_until, set_config('synchronous_commit', 'off', true) AS commit_mode),
candidate AS MATERIALIZED (
    SELECT j.id FROM jobs j, claim
     WHERE j.id = claim.id AND j.status = 'approved' AND j.run_at <= now()
       AND j.queue = ANY (claim.queues) AND (claim.types IS NULL OR j.type = ANY (claim.types))
       FOR UPDATE OF j SKIP LOCKED),
claimed AS (
    UPDATE jobs j
       SET status = 'processing', attempt = j.attempt + 1, locked_by = (SELECT worker FROM claim),
           heartbeat_at = now(), claimed_at = now(),
           lease_expires_at = (SELECT lease_until FROM claim),
           started_at = COALESCE(j.started_at, now()), updated_at = now()
     WHERE j.id = (SELECT id FROM candidate)
    RETURNING j.*)
SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
review_summary, gate_round FROM claimed
