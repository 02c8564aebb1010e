SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?
