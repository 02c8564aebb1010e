SELECT * FROM job_events WHERE id > ? ORDER BY id LIMIT ?
