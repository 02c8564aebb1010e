WITH args AS (SELECT ?::text AS worker),
outcomes AS (
    SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
done AS (
    UPDATE jobs j
       SET status = 'completed', result = o.result::jsonb, progress_percentage = 100, completed_by = (SELECT worker FROM args), finished_at = now(), finished_event_id = nextval('job_events_id_seq'),
           updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
      FROM outcomes o
     WHERE j.id = o.id AND j.attempt = o.attempt AND j.locked_by = (SELECT worker FROM args)
       AND j.status = (SELECT 'processing'::job_status) AND j.parent_id IS NULL
    RETURNING j.id)
SELECT id FROM done
