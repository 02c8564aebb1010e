SELECT revision, replaced_by, replaced_at, ended_as::text AS ended_as, result::text AS result FROM job_storyboards WHERE job_id = ? ORDER BY revision DESC
