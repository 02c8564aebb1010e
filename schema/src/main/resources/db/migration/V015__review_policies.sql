-- Review policies per job type (issue 18): who may decide, whether the requester may approve
-- their own job (four eyes), and how long a job may wait for a decision. Data, not configuration
-- of one process: every API process and every worker reads the same rows, and the checks are in
-- the database, so that a decision written by any path obeys them.
--
-- A job type without a row has the defaults: a key with the role approve decides, the requester
-- may approve, no expiry.
--
-- Enforced by the trigger job_reviews_policy (BEFORE INSERT on job_reviews), for every role:
--   * four_eyes: an approval whose reviewer is the job's requester is refused;
--   * required_role: a decision by the holder of an API key whose role is below it is refused
--     (a reviewer without a key of that name, such as the owner at a psql prompt or the API in
--     dev mode without keys, is not checked here: the API checks the caller's key itself);
-- both with SQLSTATE 42501 and a message naming the policy. The expiry is applied by the
-- workers' maintenance (ReviewTrail.EXPIRE): a pending job of the type whose last change (its
-- creation, a request for changes, a revision) is older than expires_after is cancelled, with
-- the decision 'expired' in the audit trail.
--
-- roles.sql must be run again after this migration (grants for review_policies).

CREATE TABLE review_policies (
    job_type      text NOT NULL,
    gate          text NOT NULL DEFAULT 'plan',
    required_role api_key_role NOT NULL DEFAULT 'approve',
    four_eyes     boolean NOT NULL DEFAULT false,
    expires_after interval,
    updated_by    text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_type, gate),
    CONSTRAINT review_policies_type_format CHECK (job_type ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT review_policies_gate_format CHECK (gate ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    -- Deciding is at least what approving was.
    CONSTRAINT review_policies_role_decides CHECK (required_role IN ('approve', 'admin')),
    CONSTRAINT review_policies_expiry_range
        CHECK (expires_after IS NULL OR (expires_after >= interval '1 minute' AND expires_after <= interval '3650 days'))
);
COMMENT ON TABLE review_policies IS 'How the decisions on a job type''s reviews are made: who decides, four eyes, expiry. One row per job type and gate; none means the defaults. Enforced by the trigger job_reviews_policy and by maintenance (expiry).';
COMMENT ON COLUMN review_policies.job_type IS 'The job type (jobs.type) the policy applies to.';
COMMENT ON COLUMN review_policies.gate IS 'What is reviewed: plan (the storyboard, before the job first runs).';
COMMENT ON COLUMN review_policies.required_role IS 'The least API key role that may decide: approve (the default) or admin.';
COMMENT ON COLUMN review_policies.four_eyes IS 'When true, the job''s requester (jobs.created_by) may not approve it: someone else must.';
COMMENT ON COLUMN review_policies.expires_after IS 'A pending job that has not changed (created, changes requested, revised) for this long is cancelled, with the decision expired in job_reviews. NULL: never.';
COMMENT ON COLUMN review_policies.updated_by IS 'Who last set the policy (API key name).';
COMMENT ON COLUMN review_policies.updated_at IS 'When the policy was last set.';

-- Expiry: the pending jobs of a type. Not keyed by updated_at, which every heartbeat writes: an
-- index on it, even a partial one, would make every heartbeat a non-HOT update (PostgreSQL checks
-- every indexed column, whatever the predicate). type and status never change in a heartbeat.
CREATE INDEX jobs_pending_idx ON jobs (type) WHERE status = 'pending';
COMMENT ON INDEX jobs_pending_idx IS 'Pending jobs by type: the review expiry of maintenance.';

CREATE FUNCTION gaffer_job_reviews_policy() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    p review_policies;
    key_role api_key_role;
BEGIN
    SELECT * INTO p FROM review_policies WHERE job_type = NEW.job_type AND gate = NEW.gate;
    IF NOT FOUND OR NEW.decision = 'expired' THEN
        RETURN NEW;
    END IF;
    IF p.four_eyes AND NEW.decision = 'approved' AND NEW.reviewer = NEW.requested_by THEN
        RAISE EXCEPTION 'four eyes: % requested job % and may not approve it too', NEW.reviewer, NEW.job_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('The review policy of job type %s (gate %s) needs someone else to approve.',
                                NEW.job_type, NEW.gate);
    END IF;
    SELECT role INTO key_role FROM api_keys WHERE name = NEW.reviewer AND revoked_at IS NULL;
    IF FOUND AND key_role < p.required_role THEN
        RAISE EXCEPTION 'role: % has role %, and deciding on job % needs %', NEW.reviewer, key_role, NEW.job_id,
                        p.required_role
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('The review policy of job type %s (gate %s) names the role that decides.',
                                NEW.job_type, NEW.gate);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION gaffer_job_reviews_policy() IS 'Trigger of job_reviews_policy: enforces review_policies (four eyes, the role that decides) on every decision, whoever writes it. SECURITY DEFINER: it reads api_keys, which workers may not.';

CREATE TRIGGER job_reviews_policy BEFORE INSERT ON job_reviews
    FOR EACH ROW EXECUTE FUNCTION gaffer_job_reviews_policy();
COMMENT ON TRIGGER job_reviews_policy ON job_reviews IS 'Review policies are enforced in the database (V015).';
