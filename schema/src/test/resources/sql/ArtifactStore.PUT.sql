INSERT INTO job_artifacts (job_id, name, content_type, size_bytes, sha256, data)
SELECT id, ?, ?, ?, ?, ?
  FROM jobs
 WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'
ON CONFLICT (job_id, name) DO UPDATE
   SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
       sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
RETURNING job_id, name, content_type, size_bytes, sha256, created_at
