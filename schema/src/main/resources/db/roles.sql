-- Least privilege for a Gaffer database: four group roles, each allowed exactly what its
-- processes' statements need, so that a bug or a stolen password in one of them cannot do what
-- that process never does. PostgreSQL itself refuses the rest (SQLSTATE 42501).
--
--   gaffer_api       the REST API: reads everything it serves; creates jobs through the create
--                    function of V009 and appends the events of its transitions;
--                    updates only the job columns that approve, cancel and retry write, and
--                    api_keys.last_used_at. It never deletes, never touches leases it did not
--                    cancel, and cannot change a job's type, parameters or approval history.
--   gaffer_worker    workers: claim, heartbeat, complete, fail, spawn sub-jobs, reclaim, prune,
--                    their own workers rows, db-scheduler's scheduled_tasks and job artifacts.
--                    It cannot approve (approved_by/approved_at are not its columns except when
--                    inserting sub-jobs, which inherit their parent's approval) and cannot read
--                    api_keys at all.
--   gaffer_readonly  people (DBAs, dashboards): SELECT on everything except API key hashes.
--   gaffer_client    applications that create jobs in their own transactions (the Java client's
--                    insert, or SELECT gaffer_create_job(...) from any language): EXECUTE on the
--                    two create functions of V009 and nothing else. The functions check what the
--                    API checks and run with their owner's rights, so the role needs no right on
--                    the tables. A job it creates may be approved at creation unless it has a
--                    storyboard, and names its creator and approver as the caller says.
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
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gaffer_client') THEN
        CREATE ROLE gaffer_client NOLOGIN;
    END IF;
END
$$;

COMMENT ON ROLE gaffer_api IS 'Gaffer REST API: reads, creates jobs, approve/cancel/retry columns only. See db/roles.sql.';
COMMENT ON ROLE gaffer_worker IS 'Gaffer workers: lease and outcome columns, sub-jobs, maintenance. See db/roles.sql.';
COMMENT ON ROLE gaffer_readonly IS 'People and dashboards: read-only, API key hashes excepted. See db/roles.sql.';
COMMENT ON ROLE gaffer_client IS 'Applications creating jobs in their own transactions: the create functions only. See db/roles.sql.';

-- Start from nothing, so that running the script again after a change also takes rights away.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM gaffer_api, gaffer_worker, gaffer_readonly, gaffer_client;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM gaffer_api, gaffer_worker, gaffer_readonly, gaffer_client;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM gaffer_api, gaffer_worker, gaffer_readonly, gaffer_client;
GRANT USAGE ON SCHEMA public TO gaffer_api, gaffer_worker, gaffer_readonly, gaffer_client;

-- Both processes check at start that the schema is migrated (Flyway reads its history table).
GRANT SELECT ON flyway_schema_history TO gaffer_api, gaffer_worker, gaffer_readonly;

-- ---- gaffer_api ------------------------------------------------------------------------------
-- Every transition statement ends in RETURNING *, which needs SELECT on all of jobs.
GRANT SELECT ON jobs, job_events, job_history, workers, job_artifacts, job_trees, job_reviews TO gaffer_api;
-- JobRequests.CREATE calls the create function of V009, which inserts with its owner's rights:
-- the API itself inserts no job.
GRANT EXECUTE ON FUNCTION gaffer_create_jobs(text[], text[], int[], jsonb[], jsonb[], int[], timestamptz[], text[], text[], text[])
    TO gaffer_api;
-- JobRequests.APPROVE, CANCEL (with the fan-in of a cancelled sub-job and fail-fast of its
-- siblings) and RETRY: exactly the columns those statements SET. Which values they may write is
-- the transition guards' business (below).
GRANT UPDATE (status, approved_by, approved_at, run_at, attempt, finished_at, finished_event_id, result, last_error,
              progress_percentage, current_stage, subjobs_open, locked_by, heartbeat_at, lease_expires_at,
              updated_at, storyboard, storyboard_revision, review_approvals, resume_stage)
    ON jobs TO gaffer_api;
-- JobRequests.REOPEN: a finished job edited to its next revision goes back to review at its plan,
-- as it was before it first ran (V024).
GRANT UPDATE (review_gate, review_summary, redo_stage, completed_by, subjobs_total)
    ON jobs TO gaffer_api;
-- The decisions (APPROVE, REJECT, REQUEST_CHANGES) append their row to the audit trail (V013).
-- Nobody updates or deletes it but pruning after the audit retention (its trigger).
GRANT INSERT (job_id, job_type, gate, revision, decision, reviewer, requested_by, comment) ON job_reviews TO gaffer_api;
-- JobRequests.REVISE keeps the storyboard it replaces (V022); nobody changes a kept one.
GRANT SELECT, INSERT ON job_storyboards TO gaffer_api;
-- PreviewStore.REQUEST: a preview of a pending job's revision is asked for at create and revise (V021).
GRANT SELECT ON job_previews TO gaffer_api;
GRANT INSERT (job_id, revision) ON job_previews TO gaffer_api;
-- CallbackStore.RECEIVE stores what a service sent to a callback URL (V026) and wakes the job;
-- JobRequests.RETRY and REOPEN end a job's wait for a callback. The token secret signs and checks.
GRANT SELECT, DELETE ON job_callbacks TO gaffer_api;
GRANT UPDATE (received_at, payload) ON job_callbacks TO gaffer_api;
GRANT SELECT ON gaffer_secrets TO gaffer_api;
-- Review policies (V015) are set by admin keys through the API.
GRANT SELECT, INSERT, UPDATE, DELETE ON review_policies TO gaffer_api;
-- Every transition appends its history. The event that finishes a job (cancelled, failed) is
-- written under the id its statement took for jobs.finished_event_id (V011): the id column and
-- the sequence's nextval.
GRANT INSERT (id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
              attempt_started_at)
    ON job_events TO gaffer_api;
GRANT USAGE ON SEQUENCE job_events_id_seq TO gaffer_api;
-- Authentication: look the key up by hash, note when it was last used. Keys are created and
-- revoked by `gaffer keys`, run by an operator as the owner.
GRANT SELECT ON api_keys TO gaffer_api;
GRANT UPDATE (last_used_at) ON api_keys TO gaffer_api;

-- ---- gaffer_worker ---------------------------------------------------------------------------
GRANT SELECT ON jobs, job_events, job_history, workers, job_artifacts, scheduled_tasks TO gaffer_worker;
-- ReviewTrail.PRUNE: decisions older than the audit retention (the table's trigger refuses younger ones).
-- ReviewTrail.EXPIRE: the decision 'expired' of a job nobody decided on within its policy's expiry.
GRANT SELECT, DELETE ON job_reviews TO gaffer_worker;
GRANT INSERT (job_id, job_type, gate, revision, decision, reviewer, requested_by, comment) ON job_reviews TO gaffer_worker;
GRANT SELECT ON review_policies TO gaffer_worker;
-- Sub-jobs (OutcomeStore.WAIT_FOR_SUBJOBS): created approved, with the parent's approval.
GRANT INSERT (parent_id, type, queue, priority, parameters, max_attempts, status, approved_by, approved_at)
    ON jobs TO gaffer_worker;
-- CLAIM, HEARTBEAT, COMPLETE, FAIL, WAIT_FOR_SUBJOBS, RECLAIM, RELEASE and the fan-in.
GRANT UPDATE (status, attempt, locked_by, heartbeat_at, lease_expires_at, started_at, claimed_at, updated_at,
              progress_percentage, current_stage, result, finished_at, finished_event_id, completed_by, run_at,
              last_error, subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure,
              review_gate, gate_round, review_summary, redo_stage, review_approvals)
    ON jobs TO gaffer_worker;
-- PRUNE deletes finished top-level jobs; their sub-jobs, events and artifacts go by ON DELETE
-- CASCADE, which PostgreSQL runs with the table owner's rights.
GRANT DELETE ON jobs TO gaffer_worker;
GRANT INSERT (id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
              attempt_started_at)
    ON job_events TO gaffer_worker;
GRANT USAGE ON SEQUENCE job_events_id_seq TO gaffer_worker;
-- WorkerStore: register, touch, deregister, expire.
GRANT INSERT, UPDATE, DELETE ON workers TO gaffer_worker;
-- PreviewStore.CLAIM, FINISH, FAIL: previews are leased and written by workers (V021); their
-- files go to job_artifacts under the preview's lease (ArtifactStore.PUT_PREVIEW).
GRANT SELECT ON job_previews TO gaffer_worker;
GRANT UPDATE (status, attempt, locked_by, lease_expires_at, result, error, started_at, finished_at)
    ON job_previews TO gaffer_worker;
-- CallbackStore.ISSUE and AWAIT: the lease holder asks for a callback and waits (V026);
-- TAKE_CANCELLED: a worker takes the wait of a cancelled job to tell its handler.
GRANT SELECT, INSERT, UPDATE, DELETE ON job_callbacks TO gaffer_worker;
GRANT SELECT ON gaffer_secrets TO gaffer_worker;
-- ArtifactStore.PUT (an upsert by the lease holder, which may keep only the newest revisions, V024).
GRANT INSERT, UPDATE, DELETE ON job_artifacts TO gaffer_worker;
-- db-scheduler runs the maintenance tasks through this table.
GRANT INSERT, UPDATE, DELETE ON scheduled_tasks TO gaffer_worker;

-- ---- gaffer_client ---------------------------------------------------------------------------
GRANT EXECUTE ON FUNCTION gaffer_create_jobs(text[], text[], int[], jsonb[], jsonb[], int[], timestamptz[], text[], text[], text[]),
                          gaffer_create_job(text, jsonb, jsonb, text, int, int, timestamptz, text, text, text)
    TO gaffer_client;

-- ---- gaffer_readonly -------------------------------------------------------------------------
GRANT SELECT ON jobs, job_events, job_history, workers, job_artifacts, scheduled_tasks, job_trees, job_reviews,
                review_policies, job_previews, job_storyboards
    TO gaffer_readonly;
GRANT SELECT (id, name, role, key_prefix, created_at, last_used_at, revoked_at) ON api_keys TO gaffer_readonly;

-- Identity columns draw from their sequences with the table's INSERT right; only job_events' is
-- also read with nextval (above), by the statements that finish a job.

-- ---- transition guards -------------------------------------------------------------------------
-- Column grants say which columns a role may write, not which values: with UPDATE on status and
-- result, gaffer_api could mark a job completed with a result of its choosing. The guards below
-- hold each role to the transitions its own statements make (JobRequests, LeaseStore, OutcomeStore,
-- ReclaimStore), checked by PostgreSQL at the end of every statement. A refused statement raises
-- SQLSTATE 42501 naming the job and the rule, and changes nothing.
--
-- Inserts and updates are checked by statement triggers reading the statement's transition
-- tables: one check per statement (a claim or a completion batch of 64 jobs is one check), not per
-- row; deletes, which only pruning makes, row by row. They bind only sessions
-- whose current role has the rights of exactly one of gaffer_api and gaffer_worker; the tables'
-- owner, superusers and DBAs are not held to them. A login must therefore be IN ROLE one of the
-- two, never both. They live here rather than in a migration because they name the roles this
-- script creates; running the script again after an upgrade replaces them.

-- Which of the two roles the current session acts as, or NULL when none (or both) applies.
CREATE OR REPLACE FUNCTION gaffer_guarded_role() RETURNS text
    LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN r.rolsuper THEN NULL
                WHEN api AND NOT worker THEN 'gaffer_api'
                WHEN worker AND NOT api THEN 'gaffer_worker'
           END
      FROM pg_roles r,
           LATERAL (SELECT pg_has_role(current_user, 'gaffer_api', 'USAGE') AS api,
                           pg_has_role(current_user, 'gaffer_worker', 'USAGE') AS worker) m
     WHERE r.rolname = current_user
$$;
COMMENT ON FUNCTION gaffer_guarded_role() IS 'gaffer_api or gaffer_worker when the current role acts as exactly one of them; NULL otherwise (owner, superuser, people). See db/roles.sql.';

CREATE OR REPLACE FUNCTION gaffer_guard_jobs_update() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    who text := gaffer_guarded_role();
    bad record;
BEGIN
    IF who IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT o.id, o.status AS was, n.status AS now INTO bad
      FROM old_jobs o JOIN new_jobs n ON n.id = o.id
     WHERE NOT COALESCE(CASE who
        WHEN 'gaffer_api' THEN
            -- APPROVE, REJECT, REQUEST_CHANGES, REVISE, CANCEL and RETRY, and the fan-in of a
            -- cancelled sub-job.
            (   (o.status = 'pending' AND n.status IN ('approved', 'rejected', 'pending'))
             -- The rejection at a gate after the plan fails the job: it was approved and has run.
             OR (o.status = 'pending' AND n.status = 'failed' AND o.review_gate <> 'plan')
             OR (o.status IN ('pending', 'approved', 'processing', 'waiting') AND n.status = 'cancelled')
             OR (o.status IN ('failed', 'cancelled') AND n.status IN ('approved', 'waiting'))
             OR (o.status = 'waiting' AND n.status IN ('waiting', 'approved'))
             -- CallbackStore.RECEIVE (V026): a job waiting for a callback is woken (run_at) only by the
             -- callback received in this transaction, for the attempt it waits with.
             OR (o.status = 'approved' AND n.status = 'approved' AND n.attempt = o.attempt
                 AND EXISTS (SELECT 1 FROM job_callbacks c
                              WHERE c.job_id = n.id AND c.received_at = now() AND c.attempt = n.attempt + 1))
             -- REOPEN (V024): a finished top-level job edited to its next revision, back to its plan.
             OR (o.status IN ('completed', 'failed', 'cancelled') AND n.status = 'pending' AND o.parent_id IS NULL
                 AND n.storyboard_revision = o.storyboard_revision + 1 AND n.attempt = 0))
            -- Who approved is written once, and only by an approval (or the retry of a job never approved).
            AND (o.approved_by IS NULL
                 OR (n.approved_by IS NOT DISTINCT FROM o.approved_by
                     AND n.approved_at IS NOT DISTINCT FROM o.approved_at)
                 -- A reopened revision needs an approval of its own (the earlier ones stay in job_reviews).
                 OR ((o.status IN ('completed', 'failed', 'cancelled') AND n.status = 'pending') AND n.approved_by IS NULL AND n.approved_at IS NULL))
            -- A person never writes a result or a lease; a retry clears them, a cancel ends the lease.
            AND (n.result IS NULL OR n.result IS NOT DISTINCT FROM o.result)
            AND (n.locked_by IS NULL OR n.locked_by IS NOT DISTINCT FROM o.locked_by)
            AND (n.heartbeat_at IS NULL OR n.heartbeat_at IS NOT DISTINCT FROM o.heartbeat_at)
            AND (n.lease_expires_at IS NULL OR n.lease_expires_at IS NOT DISTINCT FROM o.lease_expires_at)
            AND (n.attempt = o.attempt OR n.attempt = 0)
            AND (n.last_error IS NOT DISTINCT FROM o.last_error OR (o.status = 'pending' AND n.status = 'failed'))
            -- A person never moves a job to another gate. The rejection at a gate makes its redo
            -- stage the one a retry resumes at.
            AND ((n.review_gate = o.review_gate AND n.gate_round = o.gate_round
                  AND n.review_summary IS NOT DISTINCT FROM o.review_summary
                  AND n.redo_stage IS NOT DISTINCT FROM o.redo_stage)
                 OR ((o.status IN ('completed', 'failed', 'cancelled') AND n.status = 'pending') AND n.review_gate = 'plan' AND n.gate_round = o.gate_round
                     AND n.review_summary IS NULL AND n.redo_stage IS NULL))
            AND (n.resume_stage IS NOT DISTINCT FROM o.resume_stage
                 OR (o.status = 'pending' AND n.status = 'failed' AND n.resume_stage IS NOT DISTINCT FROM o.redo_stage))
            -- A completion is a worker's; reopening the job clears it (job_storyboards keeps the result).
            AND (n.completed_by IS NOT DISTINCT FROM o.completed_by OR ((o.status IN ('completed', 'failed', 'cancelled') AND n.status = 'pending') AND n.completed_by IS NULL))
            -- The sub-jobs of a reopened revision are counted from none.
            AND (n.subjobs_total = o.subjobs_total OR ((o.status IN ('completed', 'failed', 'cancelled') AND n.status = 'pending') AND n.subjobs_total = 0))
            -- The storyboard changes only by a revision of a pending job at its plan, to the next revision.
            AND ((n.storyboard IS NOT DISTINCT FROM o.storyboard AND n.storyboard_revision = o.storyboard_revision)
                 OR (o.status = 'pending' AND n.status = 'pending' AND o.review_gate = 'plan'
                     AND n.storyboard_revision = o.storyboard_revision + 1)
                 OR ((o.status IN ('completed', 'failed', 'cancelled') AND n.status = 'pending') AND n.storyboard_revision = o.storyboard_revision + 1))
            -- Approvals toward a quorum count one per approval in the trail, and start again with a
            -- revision.
            AND (n.review_approvals = o.review_approvals
                 OR (n.review_approvals = o.review_approvals + 1
                     AND EXISTS (SELECT 1 FROM job_reviews r
                                  WHERE r.job_id = n.id AND r.gate = n.review_gate
                                    AND r.revision = CASE WHEN n.review_gate = 'plan' THEN n.storyboard_revision
                                                          ELSE n.gate_round END
                                    AND r.decision = 'approved' AND r.decided_at = now()))
                 OR (n.review_approvals = 0 AND n.storyboard_revision = o.storyboard_revision + 1))
            -- A decision on a plan or a gate is in the audit trail, written in this transaction,
            -- about the gate and revision decided on. At a gate, a request for changes sends the
            -- job back to work (approved at its redo stage) and a rejection fails it.
            AND (o.status <> 'pending' OR n.status NOT IN ('approved', 'rejected', 'failed')
                 OR EXISTS (SELECT 1 FROM job_reviews r
                             WHERE r.job_id = n.id AND r.gate = o.review_gate AND r.decided_at = now()
                               AND r.revision = CASE WHEN o.review_gate = 'plan' THEN o.storyboard_revision
                                                     ELSE o.gate_round END
                               AND CASE WHEN n.status = 'approved'
                                        THEN r.decision = 'approved'
                                             OR (o.review_gate <> 'plan' AND r.decision = 'changes_requested')
                                        ELSE r.decision = 'rejected' END))
        WHEN 'gaffer_worker' THEN
            -- CLAIM, HEARTBEAT, COMPLETE, FAIL, WAIT_FOR_SUBJOBS, RELEASE, RECLAIM and the fan-in.
            -- A worker never touches a job that waits for a person or has finished.
            (   (o.status = 'approved' AND n.status = 'processing' AND n.attempt = o.attempt + 1)
             OR (o.status = 'processing' AND n.status = 'processing'
                 AND n.attempt = o.attempt AND n.locked_by = o.locked_by)
             OR (o.status = 'processing' AND n.status IN ('completed', 'failed') AND n.attempt = o.attempt)
             OR (o.status = 'processing' AND n.status = 'approved' AND n.attempt IN (o.attempt, o.attempt - 1))
             OR (o.status = 'processing' AND n.status = 'waiting' AND n.attempt = o.attempt - 1)
             OR (o.status = 'waiting' AND n.status IN ('waiting', 'approved', 'failed') AND n.attempt = o.attempt)
             -- A gate (OutcomeStore.AWAIT_REVIEW): the lease and the attempt given back, the next
             -- stop at a gate, its approvals counted from none.
             OR (o.status = 'processing' AND n.status = 'pending' AND n.attempt = o.attempt - 1
                 AND n.review_gate <> 'plan' AND n.gate_round = o.gate_round + 1 AND n.review_approvals = 0)
             -- Fail-fast: the siblings of a sub-job that failed its parent.
             OR (o.status IN ('approved', 'processing', 'waiting') AND n.status = 'cancelled'
                 AND EXISTS (SELECT 1 FROM jobs p WHERE p.id = n.parent_id AND p.status = 'failed'))
             -- Review expiry (ReviewTrail.EXPIRE): a pending job idle for longer than its policy allows.
             OR (o.status = 'pending' AND n.status = 'cancelled' AND n.attempt = o.attempt
                 AND EXISTS (SELECT 1 FROM review_policies p
                              WHERE p.job_type = o.type AND p.gate = o.review_gate AND p.expires_after IS NOT NULL
                                AND o.updated_at < now() - p.expires_after)))
            -- Only a completion writes a result, and it names the lease holder as the one who completed.
            AND (n.result IS NOT DISTINCT FROM o.result OR (o.status = 'processing' AND n.status = 'completed'))
            AND (n.completed_by IS NOT DISTINCT FROM o.completed_by
                 OR (o.status = 'processing' AND n.status = 'completed' AND n.completed_by = o.locked_by))
            -- Only a new wave of sub-jobs adds to the total.
            AND (n.subjobs_total = o.subjobs_total OR (o.status = 'processing' AND n.status = 'waiting'))
            -- Only stopping at a gate changes what is reviewed; a worker decides nothing.
            AND ((n.review_gate = o.review_gate AND n.gate_round = o.gate_round
                  AND n.review_approvals = o.review_approvals
                  AND n.review_summary IS NOT DISTINCT FROM o.review_summary
                  AND n.redo_stage IS NOT DISTINCT FROM o.redo_stage)
                 OR (o.status = 'processing' AND n.status = 'pending'))
        ELSE false
     END, false)
        -- Either role: a job waits exactly for its unfinished sub-jobs, and resumes when none is left.
        OR ((n.status = 'waiting' OR (o.status = 'waiting' AND n.status = 'approved'))
            AND n.subjobs_open <> (SELECT count(*) FROM jobs c
                                    WHERE c.parent_id = n.id
                                      AND c.status IN ('pending', 'approved', 'processing', 'waiting')))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% may not change job % from % to % that way', who, bad.id, bad.was, bad.now
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Gaffer''s transition guards (db/roles.sql) allow each role only its own transitions.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION gaffer_guard_jobs_update() IS 'Trigger of jobs_guard_update: holds gaffer_api and gaffer_worker to their own transitions. See db/roles.sql.';

CREATE OR REPLACE FUNCTION gaffer_guard_jobs_insert() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    who text := gaffer_guarded_role();
    bad bigint;
BEGIN
    IF who IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT n.id INTO bad
      FROM new_jobs n
      LEFT JOIN jobs p ON p.id = n.parent_id
     WHERE NOT COALESCE(CASE who
        -- CREATE: a top-level job that waits for a person.
        WHEN 'gaffer_api' THEN
            n.parent_id IS NULL AND n.status = 'pending' AND n.approved_by IS NULL AND n.attempt = 0
        -- WAIT_FOR_SUBJOBS: sub-jobs of a parent that now waits for them, approved with its approval.
        WHEN 'gaffer_worker' THEN
            n.parent_id IS NOT NULL AND n.status = 'approved' AND n.attempt = 0
            AND p.status = 'waiting' AND n.approved_by = p.approved_by
        ELSE false
     END, false)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% may not insert job % like that', who, bad
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE who WHEN 'gaffer_api' THEN 'The API creates pending top-level jobs only.'
                                  ELSE 'Workers insert only the sub-jobs of the job they wait on, with its approval.' END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION gaffer_guard_jobs_insert() IS 'Trigger of jobs_guard_insert: gaffer_api creates pending top-level jobs, gaffer_worker only sub-jobs. See db/roles.sql.';

-- Deletes are checked row by row, before each: the rows that a foreign key's cascade deletes with
-- them are deleted by a statement of the table's owner (not held to the guards), and PostgreSQL
-- may fire a statement trigger once for both, in the cascade's context, which would let the
-- outer statement through unchecked.
CREATE OR REPLACE FUNCTION gaffer_guard_jobs_delete() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    who text := gaffer_guarded_role();
BEGIN
    -- PRUNE: finished top-level jobs; their sub-jobs go with them by the cascade.
    IF who IS NOT NULL
       AND (who <> 'gaffer_worker' OR OLD.parent_id IS NOT NULL
            OR OLD.status NOT IN ('completed', 'failed', 'cancelled', 'rejected')) THEN
        RAISE EXCEPTION '% may not delete job % (%)', who, OLD.id, OLD.status
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only pruning deletes jobs: finished top-level ones.';
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION gaffer_guard_jobs_delete() IS 'Trigger of jobs_guard_delete: gaffer_worker deletes finished top-level jobs only. See db/roles.sql.';

CREATE OR REPLACE FUNCTION gaffer_guard_events_insert() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    who text := gaffer_guarded_role();
    bad record;
BEGIN
    IF who IS NULL THEN
        RETURN NULL;
    END IF;
    -- Each role records only the happenings of its own transitions, and only as they left the job:
    -- the event's status and attempt are the job's at the end of the statement that wrote it.
    SELECT e.job_id, e.kind INTO bad
      FROM new_events e
      LEFT JOIN jobs j ON j.id = e.job_id
     WHERE j.id IS NULL
        OR j.status <> e.status OR j.attempt <> e.attempt
        -- The event that finished the job has the id its row points at.
        OR (e.status IN ('failed', 'cancelled', 'rejected') AND e.id IS DISTINCT FROM j.finished_event_id)
        OR NOT COALESCE(CASE who
            WHEN 'gaffer_api' THEN
                e.kind IN ('approved', 'rejected', 'changes_requested', 'revised', 'cancelled', 'retried', 'resumed',
                           'progress', 'callback_received')
                OR (e.kind = 'created' AND j.parent_id IS NULL)
            WHEN 'gaffer_worker' THEN
                e.kind IN ('claimed', 'progress', 'waiting', 'resumed', 'retried', 'reclaimed', 'released',
                           'completed', 'failed', 'cancelled', 'awaiting_review', 'escalated', 'awaiting_callback')
                OR (e.kind = 'created' AND j.parent_id IS NOT NULL)
            ELSE false
         END, false)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% may not record a % event for job %', who, bad.kind, bad.job_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Events are written by the statement that makes the transition they record.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION gaffer_guard_events_insert() IS 'Trigger of job_events_guard_insert: each role records only its own kinds of event, as they left the job. See db/roles.sql.';

CREATE OR REPLACE FUNCTION gaffer_guard_reviews_insert() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    who text := gaffer_guarded_role();
    bad record;
BEGIN
    IF who IS NULL THEN
        RETURN NULL;
    END IF;
    -- A decision is written by the statement that makes it, about the job as it left it: the
    -- job's type, its submitter, its revision, and the state the decision put it in.
    SELECT r.job_id, r.decision INTO bad
      FROM new_reviews r
      LEFT JOIN jobs j ON j.id = r.job_id
     WHERE j.id IS NULL
        -- Workers record only expiries, of the jobs they cancelled for it, and escalations, of jobs
        -- still pending; people every other decision.
        OR (who = 'gaffer_worker' AND (r.reviewer <> 'gaffer'
                                       OR NOT ((r.decision = 'expired' AND j.status = 'cancelled')
                                               OR (r.decision = 'escalated' AND j.status = 'pending'))))
        OR (who = 'gaffer_api' AND r.decision IN ('expired', 'escalated'))
        OR r.job_type <> j.type OR r.requested_by IS DISTINCT FROM j.created_by
        -- The gate the job is at (or was, the decision having moved it on), and its revision there.
        OR r.gate <> j.review_gate
        OR r.revision <> CASE WHEN j.review_gate = 'plan' THEN j.storyboard_revision ELSE j.gate_round END
        OR r.decided_at <> now()
        OR j.status::text <> CASE r.decision WHEN 'changes_requested' THEN CASE WHEN j.review_gate = 'plan'
                                                                                THEN 'pending' ELSE 'approved' END
                                             WHEN 'expired' THEN 'cancelled'
                                             WHEN 'escalated' THEN 'pending'
                                             -- An approval toward a quorum leaves the job pending.
                                             WHEN 'approved' THEN CASE WHEN j.status = 'pending' AND j.review_approvals > 0
                                                                       THEN 'pending' ELSE 'approved' END
                                             -- A rejection at a later gate fails the job.
                                             WHEN 'rejected' THEN CASE WHEN j.review_gate = 'plan'
                                                                       THEN 'rejected' ELSE 'failed' END
                                             ELSE r.decision::text END
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% may not record a % decision for job %', who, bad.decision, bad.job_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Decisions are written by the statement that makes them (JobRequests), as they left the job.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION gaffer_guard_reviews_insert() IS 'Trigger of job_reviews_guard_insert: gaffer_api records decisions, gaffer_worker expiries, each as it left the job. See db/roles.sql.';

DROP TRIGGER IF EXISTS job_reviews_guard_insert ON job_reviews;
CREATE TRIGGER job_reviews_guard_insert AFTER INSERT ON job_reviews
    REFERENCING NEW TABLE AS new_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION gaffer_guard_reviews_insert();
COMMENT ON TRIGGER job_reviews_guard_insert ON job_reviews IS 'Transition guard for gaffer_api and gaffer_worker (db/roles.sql).';

DROP TRIGGER IF EXISTS jobs_guard_update ON jobs;
CREATE TRIGGER jobs_guard_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION gaffer_guard_jobs_update();
COMMENT ON TRIGGER jobs_guard_update ON jobs IS 'Transition guard for gaffer_api and gaffer_worker (db/roles.sql).';

DROP TRIGGER IF EXISTS jobs_guard_insert ON jobs;
CREATE TRIGGER jobs_guard_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION gaffer_guard_jobs_insert();
COMMENT ON TRIGGER jobs_guard_insert ON jobs IS 'Transition guard for gaffer_api and gaffer_worker (db/roles.sql).';

DROP TRIGGER IF EXISTS jobs_guard_delete ON jobs;
CREATE TRIGGER jobs_guard_delete BEFORE DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION gaffer_guard_jobs_delete();
COMMENT ON TRIGGER jobs_guard_delete ON jobs IS 'Transition guard for gaffer_worker (db/roles.sql).';

DROP TRIGGER IF EXISTS job_events_guard_insert ON job_events;
CREATE TRIGGER job_events_guard_insert AFTER INSERT ON job_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION gaffer_guard_events_insert();
COMMENT ON TRIGGER job_events_guard_insert ON job_events IS 'Transition guard for gaffer_api and gaffer_worker (db/roles.sql).';
