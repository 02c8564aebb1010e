-- Escalation (issue 18): what a review policy does when nobody decided within expires_after.
--   cancel    (the default, as before) maintenance cancels the job, with the decision 'expired'.
--   escalate  maintenance records the decision 'escalated' (reviewer 'gaffer') and the event
--             'escalated', and leaves the job pending: from then on only a key with the role
--             admin decides that review (that gate, that revision). It is escalated once; a new
--             revision, or the next stop at a gate, is a new review with the policy's own role.
-- The job's row is not changed by an escalation: the trail says it, and the policy trigger reads
-- the trail, so the rule holds for every decision whoever writes it.

ALTER TABLE review_policies ADD COLUMN on_expiry text NOT NULL DEFAULT 'cancel';
ALTER TABLE review_policies ADD CONSTRAINT review_policies_on_expiry CHECK (on_expiry IN ('cancel', 'escalate'));
-- Escalating what never expires would never happen: say so instead of storing it.
ALTER TABLE review_policies ADD CONSTRAINT review_policies_escalation_expires
    CHECK (on_expiry = 'cancel' OR expires_after IS NOT NULL);
COMMENT ON COLUMN review_policies.on_expiry IS 'What maintenance does with a review nobody decided within expires_after: cancel the job (decision expired) or escalate it (decision escalated; only an admin decides it from then on).';

CREATE OR REPLACE FUNCTION gaffer_job_reviews_policy() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    p review_policies;
    needed api_key_role;
    key_role api_key_role;
BEGIN
    IF NEW.decision IN ('expired', 'escalated') THEN
        RETURN NEW;
    END IF;
    SELECT * INTO p FROM review_policies WHERE job_type = NEW.job_type AND gate = NEW.gate;
    IF FOUND AND p.four_eyes AND NEW.decision = 'approved' AND NEW.reviewer = NEW.requested_by THEN
        RAISE EXCEPTION 'four eyes: % requested job % and may not approve it too', NEW.reviewer, NEW.job_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('The review policy of job type %s (gate %s) needs someone else to approve.',
                                NEW.job_type, NEW.gate);
    END IF;
    needed := p.required_role;
    IF EXISTS (SELECT 1 FROM job_reviews r
                WHERE r.job_id = NEW.job_id AND r.gate = NEW.gate AND r.revision = NEW.revision
                  AND r.decision = 'escalated') THEN
        needed := 'admin';
    END IF;
    IF needed IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT role INTO key_role FROM api_keys WHERE name = NEW.reviewer AND revoked_at IS NULL;
    IF FOUND AND key_role < needed THEN
        RAISE EXCEPTION 'role: % has role %, and deciding on job % needs %', NEW.reviewer, key_role, NEW.job_id, needed
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE WHEN needed = 'admin' AND (p.required_role IS NULL OR p.required_role < 'admin')
                              THEN format('The review of job %s (gate %s, revision %s) expired and was escalated: an admin decides it.',
                                          NEW.job_id, NEW.gate, NEW.revision)
                              ELSE format('The review policy of job type %s (gate %s) names the role that decides.',
                                          NEW.job_type, NEW.gate) END;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION gaffer_job_reviews_policy() IS 'Trigger of job_reviews_policy: enforces review_policies (four eyes, the role that decides) and escalations (admin only) on every decision, whoever writes it. SECURITY DEFINER: it reads api_keys, which workers may not.';
