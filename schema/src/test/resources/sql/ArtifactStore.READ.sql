SELECT data FROM job_artifacts WHERE job_id = ? AND name = ? AND (?::int IS NULL OR revision = ?::int)
 ORDER BY revision DESC LIMIT 1
