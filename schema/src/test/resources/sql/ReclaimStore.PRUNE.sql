WITH doomed AS (
    SELECT id FROM jobs
     WHERE finished_at < now() - make_interval(secs => ?::double precision) AND parent_id IS NULL
     ORDER BY finished_at
     LIMIT ?)
DELETE FROM jobs j USING doomed d WHERE j.id = d.id
