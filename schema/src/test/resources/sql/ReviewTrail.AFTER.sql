SELECT id, job_id, job_type, gate, revision, decision::text AS decision, reviewer, requested_by, comment, decided_at FROM job_reviews
WHERE id > ? AND (?::bigint IS NULL OR job_id = ?::bigint)
ORDER BY id
LIMIT ?
