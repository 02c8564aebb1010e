INSERT INTO job_artifacts (job_id, name, storyboard_revision, content_type, size_bytes, sha256, data)
SELECT job_id, ?, revision, ?, ?, ?, ?
  FROM job_previews
 WHERE job_id = ? AND revision = ? AND attempt = ? AND locked_by = ? AND status = 'running'
ON CONFLICT (job_id, name, revision) DO UPDATE
   SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
       sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
RETURNING job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, created_at
