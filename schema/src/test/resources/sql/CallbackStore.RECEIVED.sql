SELECT c.payload::text AS payload, c.received_at FROM job_callbacks c JOIN jobs j ON j.id = c.job_id
 WHERE c.job_id = ? AND c.attempt = ? AND j.attempt = c.attempt AND j.locked_by = ?
   AND j.status = 'processing' AND c.received_at IS NOT NULL
