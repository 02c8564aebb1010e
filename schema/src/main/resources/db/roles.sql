-- Least privilege for a Gaffer database: three group roles, each allowed exactly what its
-- processes' statements need, so that a bug or a stolen password in one of them cannot do what
-- that process never does. PostgreSQL itself refuses the rest (SQLSTATE 42501).
--
--   gaffer_api       the REST API: reads everything it serves; inserts jobs and their events;
--                    updates only the job columns that approve, cancel and retry write, and
--                    api_keys.last_used_at. It never deletes, never touches leases it did not
--                    cancel, and cannot change a job's type, parameters or approval history.
--   gaffer_worker    workers: claim, heartbeat, complete, fail, spawn sub-jobs, reclaim, prune,
--                    their own workers rows, db-scheduler's scheduled_tasks and job artifacts.
--                    It cannot approve (approved_by/approved_at are not its columns except when
--                    inserting sub-jobs, which inherit their parent's approval) and cannot read
--                    api_keys at all.
--   gaffer_readonly  people (DBAs, dashboards): SELECT on everything except API key hashes.
--
-- This is a script, not a migration: roles belong to the whole server and creating them needs
-- CREATEROLE, which the owner of a managed database often lacks. Run it as the owner of the
-- tables, after `gaffer migrate`, in the Gaffer database, and again after each upgrade (it is
-- idempotent; a migration that adds a table or a column says so in its header if the grants
-- below need it):
--
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f schema/src/main/resources/db/roles.sql
--
-- Then create one login per process kind, and give each its timeouts. PostgreSQL does not pass a
-- role's settings (ALTER ROLE ... SET) on to its members, so they are set on the login itself:
--
--   CREATE ROLE gaffer_api_login LOGIN PASSWORD '...' IN ROLE gaffer_api;
--   ALTER ROLE gaffer_api_login SET statement_timeout = '30s';
--   ALTER ROLE gaffer_api_login SET idle_in_transaction_session_timeout = '60s';
--   CREATE ROLE gaffer_worker_login LOGIN PASSWORD '...' IN ROLE gaffer_worker;
--   ALTER ROLE gaffer_worker_login SET statement_timeout = '60s';
--   ALTER ROLE gaffer_worker_login SET idle_in_transaction_session_timeout = '60s';
--   CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE gaffer_readonly;
--   ALTER ROLE alice SET statement_timeout = '5min';
--   ALTER ROLE alice SET idle_in_transaction_session_timeout = '5min';
--
-- The idle-in-transaction timeout matters for the queue: a session left open in a transaction
-- holds back the xmin horizon, and every claim, heartbeat and completion leaves a dead row
-- version that vacuum cannot remove until it ends (docs/reliability.md, scenario 7).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gaffer_api') THEN
        CREATE ROLE gaffer_api NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gaffer_worker') THEN
        CREATE ROLE gaffer_worker NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gaffer_readonly') THEN
        CREATE ROLE gaffer_readonly NOLOGIN;
    END IF;
END
$$;

COMMENT ON ROLE gaffer_api IS 'Gaffer REST API: reads, creates jobs, approve/cancel/retry columns only. See db/roles.sql.';
COMMENT ON ROLE gaffer_worker IS 'Gaffer workers: lease and outcome columns, sub-jobs, maintenance. See db/roles.sql.';
COMMENT ON ROLE gaffer_readonly IS 'People and dashboards: read-only, API key hashes excepted. See db/roles.sql.';

-- Start from nothing, so that running the script again after a change also takes rights away.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM gaffer_api, gaffer_worker, gaffer_readonly;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM gaffer_api, gaffer_worker, gaffer_readonly;
GRANT USAGE ON SCHEMA public TO gaffer_api, gaffer_worker, gaffer_readonly;

-- Both processes check at start that the schema is migrated (Flyway reads its history table).
GRANT SELECT ON flyway_schema_history TO gaffer_api, gaffer_worker, gaffer_readonly;

-- ---- gaffer_api ------------------------------------------------------------------------------
-- Every transition statement ends in RETURNING *, which needs SELECT on all of jobs.
GRANT SELECT ON jobs, job_events, workers, job_artifacts, job_trees TO gaffer_api;
-- JobStore.CREATE.
GRANT INSERT (type, queue, priority, parameters, storyboard, max_attempts, run_at, idempotency_key, created_by)
    ON jobs TO gaffer_api;
-- JobStore.APPROVE, CANCEL (with the fan-in of a cancelled sub-job and fail-fast of its
-- siblings) and RETRY: exactly the columns those statements SET.
GRANT UPDATE (status, approved_by, approved_at, run_at, attempt, finished_at, result, last_error,
              progress_percentage, current_stage, subjobs_open, locked_by, heartbeat_at, updated_at)
    ON jobs TO gaffer_api;
-- Every transition appends its history.
GRANT INSERT (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message)
    ON job_events TO gaffer_api;
-- Authentication: look the key up by hash, note when it was last used. Keys are created and
-- revoked by `gaffer keys`, run by an operator as the owner.
GRANT SELECT ON api_keys TO gaffer_api;
GRANT UPDATE (last_used_at) ON api_keys TO gaffer_api;

-- ---- gaffer_worker ---------------------------------------------------------------------------
GRANT SELECT ON jobs, job_events, workers, job_artifacts, scheduled_tasks TO gaffer_worker;
-- Sub-jobs (JobStore.WAIT_FOR_SUBJOBS): created approved, with the parent's approval.
GRANT INSERT (parent_id, type, queue, priority, parameters, max_attempts, status, approved_by, approved_at)
    ON jobs TO gaffer_worker;
-- CLAIM, HEARTBEAT, COMPLETE, FAIL, WAIT_FOR_SUBJOBS, RECLAIM, RELEASE and the fan-in.
GRANT UPDATE (status, attempt, locked_by, heartbeat_at, started_at, updated_at, progress_percentage,
              current_stage, result, finished_at, run_at, last_error, subjobs_total, subjobs_open,
              fanout_stage, resume_stage, on_subjob_failure)
    ON jobs TO gaffer_worker;
-- PRUNE deletes finished top-level jobs; their sub-jobs, events and artifacts go by ON DELETE
-- CASCADE, which PostgreSQL runs with the table owner's rights.
GRANT DELETE ON jobs TO gaffer_worker;
GRANT INSERT (job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message)
    ON job_events TO gaffer_worker;
-- WorkerStore: register, touch, deregister, expire.
GRANT INSERT, UPDATE, DELETE ON workers TO gaffer_worker;
-- ArtifactStore.PUT (an upsert by the lease holder).
GRANT INSERT, UPDATE ON job_artifacts TO gaffer_worker;
-- db-scheduler runs the maintenance tasks through this table.
GRANT INSERT, UPDATE, DELETE ON scheduled_tasks TO gaffer_worker;

-- ---- gaffer_readonly -------------------------------------------------------------------------
GRANT SELECT ON jobs, job_events, workers, job_artifacts, scheduled_tasks, job_trees TO gaffer_readonly;
GRANT SELECT (id, name, role, key_prefix, created_at, last_used_at, revoked_at) ON api_keys TO gaffer_readonly;

-- Identity columns draw from their sequences with the table's INSERT right; nothing to grant.
