WITH gone AS (
    DELETE FROM job_callbacks c
     WHERE c.job_id IN (SELECT c2.job_id FROM job_callbacks c2 JOIN jobs j ON j.id = c2.job_id
                         WHERE j.status = 'cancelled' AND c2.received_at IS NULL
                           AND j.type = ANY(?::text[])
                         ORDER BY c2.job_id LIMIT ?
                           FOR UPDATE OF c2 SKIP LOCKED)
    RETURNING c.job_id)
SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
review_summary, gate_round FROM jobs WHERE id IN (SELECT job_id FROM gone) ORDER BY id
