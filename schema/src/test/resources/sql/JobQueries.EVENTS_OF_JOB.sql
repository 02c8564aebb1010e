SELECT * FROM job_history WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?
