WITH held AS (
    SELECT id, attempt FROM jobs
     WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'),
issued AS (
    INSERT INTO job_callbacks (job_id, attempt, nonce)
    SELECT id, attempt, gen_random_uuid() FROM held
    ON CONFLICT (job_id) DO UPDATE
       SET attempt = EXCLUDED.attempt, nonce = EXCLUDED.nonce, created_at = now(), expires_at = NULL,
           received_at = NULL, payload = NULL
     WHERE job_callbacks.attempt <> EXCLUDED.attempt OR job_callbacks.received_at IS NOT NULL
    RETURNING nonce)
SELECT nonce FROM issued
UNION ALL
SELECT c.nonce FROM job_callbacks c JOIN held h ON h.id = c.job_id
 WHERE NOT EXISTS (SELECT 1 FROM issued)
