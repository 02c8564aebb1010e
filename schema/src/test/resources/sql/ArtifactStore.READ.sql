SELECT data FROM job_artifacts WHERE job_id = ? AND name = ?
