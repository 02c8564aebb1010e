UPDATE job_previews
   SET status = 'done', result = ?::jsonb, error = NULL, locked_by = NULL, lease_expires_at = NULL,
       finished_at = now()
 WHERE job_id = ? AND revision = ? AND attempt = ? AND locked_by = ? AND status = 'running'
