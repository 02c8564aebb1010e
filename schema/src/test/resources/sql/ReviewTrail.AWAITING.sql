SELECT id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
review_summary, gate_round FROM jobs j
 WHERE j.status = 'pending' AND j.id > ?
   AND NOT (j.review_gate = 'plan'
            AND EXISTS (SELECT 1 FROM job_reviews r
                         WHERE r.job_id = j.id AND r.gate = 'plan' AND r.revision = j.storyboard_revision
                           AND r.decision = 'changes_requested'))
   AND (?::api_key_role IS NULL
        OR GREATEST(COALESCE((SELECT p.required_role FROM review_policies p
                               WHERE p.job_type = j.type AND p.gate = j.review_gate), 'approve'),
                    CASE WHEN EXISTS (SELECT 1 FROM job_reviews r
                                       WHERE r.job_id = j.id AND r.gate = j.review_gate
                                         AND r.decision = 'escalated'
                                         AND r.revision = CASE WHEN j.review_gate = 'plan' THEN j.storyboard_revision ELSE j.gate_round END)
                         THEN 'admin'::api_key_role END) <= ?::api_key_role)
 ORDER BY j.id
 LIMIT ?
