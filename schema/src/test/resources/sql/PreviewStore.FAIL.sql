UPDATE job_previews
   SET status = CASE WHEN ? AND attempt < 3 THEN 'queued' ELSE 'failed' END::preview_status,
       finished_at = CASE WHEN ? AND attempt < 3 THEN NULL ELSE now() END,
       error = ?, locked_by = NULL, lease_expires_at = NULL
 WHERE job_id = ? AND revision = ? AND attempt = ? AND locked_by = ? AND status = 'running'
