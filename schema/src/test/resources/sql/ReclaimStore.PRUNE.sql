WITH args AS (SELECT now() - make_interval(secs => ?::double precision) AS cutoff),
scanned AS MATERIALIZED (
    SELECT id, parent_id, finished_at, finished_event_id FROM jobs
     WHERE finished_event_id > ?
     ORDER BY finished_event_id
     LIMIT ?),
deleted AS (
    DELETE FROM jobs j USING scanned s, args
     WHERE j.id = s.id AND s.parent_id IS NULL AND s.finished_at < args.cutoff
    RETURNING j.id)
SELECT (SELECT count(*) FROM deleted) AS deleted,
       (SELECT max(finished_event_id) FROM scanned) AS last_read,
       (SELECT count(*) FROM scanned, args WHERE scanned.finished_at >= args.cutoff) AS retained
