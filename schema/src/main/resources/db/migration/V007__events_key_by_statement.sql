-- job_events.job_id without a per-row foreign key check. Found with the burn-down benchmark
-- (docs/benchmarks.md): PostgreSQL checks a foreign key once per inserted row, with a query of its
-- own, and every job inserts at least two events (claimed, completed). A profile of the server
-- during a burn-down put an eighth of its CPU in those checks; with the key a claimed and
-- completed job cost the server 17 % more CPU (bench/run --scenario sqlcost, median of 7 runs,
-- docs/benchmarks.md).
--
-- Both halves of the key still hold:
-- * An event always names an existing job: JobStore writes an event only in the statement that
--   inserts or updates its job (JobStore.RECORD reads the rows that statement changed), so the
--   job exists and is row-locked until the event commits; nothing else inserts events.
-- * Deleting a job deletes its history: a statement trigger does it with one DELETE for all the
--   jobs the statement removed (pruning deletes a thousand at a time, and sub-jobs go with their
--   parent through jobs_parent_id_fkey), where ON DELETE CASCADE ran one DELETE per job.
--
-- SECURITY DEFINER: the function runs with its owner's rights, as the cascade did, so a role that
-- may delete jobs (gaffer_worker prunes) needs no DELETE right on the append-only history.

ALTER TABLE job_events DROP CONSTRAINT job_events_job_id_fkey;

CREATE FUNCTION job_events_delete_with_jobs() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path FROM CURRENT
AS $$
BEGIN
    DELETE FROM job_events e USING deleted_jobs d WHERE e.job_id = d.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION job_events_delete_with_jobs() IS 'Trigger of jobs_delete_events: deletes the events of the jobs a statement deleted.';
REVOKE ALL ON FUNCTION job_events_delete_with_jobs() FROM PUBLIC;

CREATE TRIGGER jobs_delete_events
    AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS deleted_jobs
    FOR EACH STATEMENT
    EXECUTE FUNCTION job_events_delete_with_jobs();
COMMENT ON TRIGGER jobs_delete_events ON jobs IS 'A job''s events are deleted with it (job_events has no foreign key: V007).';

COMMENT ON COLUMN job_events.job_id IS 'The job this happened to. Always an existing job: written by the statement that changes the job, and deleted with it (trigger jobs_delete_events).';
