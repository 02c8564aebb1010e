SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
review_summary, gate_round FROM jobs WHERE parent_id = ? ORDER BY id
