SELECT job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, created_at FROM job_artifacts WHERE job_id = ? ORDER BY name, revision DESC
