SELECT id, job_id, job_type, gate, revision, decision::text AS decision, reviewer, requested_by, comment, decided_at FROM job_reviews WHERE job_id = ? ORDER BY id
