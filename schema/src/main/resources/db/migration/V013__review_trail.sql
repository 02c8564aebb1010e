-- Decisions on a job's plan, and a trail of them that outlives the jobs (issue 18).
--
-- A pending job's storyboard now has a revision. A reviewer approves it (with an optional
-- comment), rejects it (terminal, with a reason) or requests changes (it stays pending, with the
-- reviewer's comment); the submitter then replaces the storyboard, naming the revision it
-- replaces, which starts the next revision and asks for review again. Each decision is one row of
-- job_reviews, written by the statement that makes it, with the revision it was about.
--
-- job_reviews is the audit trail: pruning of finished jobs does not touch it (it has no foreign
-- key to jobs), it has a retention of its own (GAFFER_AUDIT_RETENTION, at least 30 days), and a
-- trigger refuses every UPDATE, every TRUNCATE and the DELETE of a decision younger than 30
-- days, whoever asks, the tables' owner included. A DBA who must remove a decision earlier does so
-- knowingly: ALTER TABLE job_reviews DISABLE TRIGGER job_reviews_append_only, which needs the
-- owner. roles.sql must be run again after this migration (grants for the new table and columns).

ALTER TABLE jobs ADD COLUMN storyboard_revision integer NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD CONSTRAINT jobs_storyboard_revision_positive CHECK (storyboard_revision >= 1);
COMMENT ON COLUMN jobs.storyboard_revision IS 'Revision of the storyboard, from 1; a revision by the submitter (after a request for changes) adds one. Every decision in job_reviews names the revision it was about; the API takes it as the ETag and If-Match of the storyboard.';

-- rejected is terminal: it has finished_at (and finished_event_id, V011) like the other terminal
-- states, and like cancelled it may never have been approved.
ALTER TABLE jobs DROP CONSTRAINT jobs_finished_iff_terminal;
ALTER TABLE jobs ADD CONSTRAINT jobs_finished_iff_terminal
    CHECK ((status IN ('completed', 'failed', 'cancelled', 'rejected')) = (finished_at IS NOT NULL));
ALTER TABLE jobs DROP CONSTRAINT jobs_approved_before_running;
ALTER TABLE jobs ADD CONSTRAINT jobs_approved_before_running
    CHECK (status IN ('pending', 'cancelled', 'rejected') OR approved_at IS NOT NULL);
-- A rejected job was never approved: the rejection is the decision on its only review.
ALTER TABLE jobs ADD CONSTRAINT jobs_rejected_never_approved CHECK (status <> 'rejected' OR approved_at IS NULL);

CREATE TYPE review_decision AS ENUM ('approved', 'rejected', 'changes_requested');
COMMENT ON TYPE review_decision IS 'What a reviewer decided: approved (the job runs), rejected (terminal), changes_requested (the job stays pending until its submitter revises it).';

CREATE TABLE job_reviews (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       bigint NOT NULL,
    job_type     text NOT NULL,
    gate         text NOT NULL DEFAULT 'plan',
    revision     integer NOT NULL,
    decision     review_decision NOT NULL,
    reviewer     text NOT NULL,
    requested_by text,
    comment      text,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT job_reviews_revision_positive CHECK (revision >= 1),
    CONSTRAINT job_reviews_gate_format CHECK (gate ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT job_reviews_reviewer_named CHECK (btrim(reviewer) <> ''),
    -- Saying no, or asking for changes, says why.
    CONSTRAINT job_reviews_reason_given
        CHECK (decision = 'approved' OR (comment IS NOT NULL AND btrim(comment) <> '')),
    CONSTRAINT job_reviews_comment_length CHECK (comment IS NULL OR length(comment) <= 10000)
);
COMMENT ON TABLE job_reviews IS 'Audit trail of review decisions, one row per decision. Append-only (trigger job_reviews_append_only); kept after its job is pruned, for GAFFER_AUDIT_RETENTION (at least 30 days).';
COMMENT ON COLUMN job_reviews.id IS 'Decision id, increasing: the order decisions were written in; the cursor of the export.';
COMMENT ON COLUMN job_reviews.job_id IS 'The job decided on (jobs.id). No foreign key: the decision outlives the job.';
COMMENT ON COLUMN job_reviews.job_type IS 'The job''s type at the time, kept for when the job is gone.';
COMMENT ON COLUMN job_reviews.gate IS 'What was reviewed: plan (the storyboard, before the job first runs).';
COMMENT ON COLUMN job_reviews.revision IS 'The storyboard revision (jobs.storyboard_revision) the reviewer decided on.';
COMMENT ON COLUMN job_reviews.decision IS 'approved, rejected or changes_requested.';
COMMENT ON COLUMN job_reviews.reviewer IS 'Name of the API key (person) that decided.';
COMMENT ON COLUMN job_reviews.requested_by IS 'Who created the job (jobs.created_by), kept for when the job is gone.';
COMMENT ON COLUMN job_reviews.comment IS 'The reviewer''s comment: required for rejected (the reason) and changes_requested, optional for approved.';
COMMENT ON COLUMN job_reviews.decided_at IS 'When the decision was written (database clock).';

CREATE INDEX job_reviews_job_idx ON job_reviews (job_id, id);
COMMENT ON INDEX job_reviews_job_idx IS 'A job''s decisions in order.';
CREATE INDEX job_reviews_decided_idx ON job_reviews (decided_at);
COMMENT ON INDEX job_reviews_decided_idx IS 'Decisions by age, for the audit retention.';

CREATE FUNCTION gaffer_job_reviews_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.decided_at < now() - interval '30 days' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'job_reviews is an audit trail: decision % of % is younger than 30 days and may not be deleted',
            OLD.id, OLD.decided_at
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Decisions are deleted only after the audit retention (at least 30 days).';
    END IF;
    RAISE EXCEPTION 'job_reviews is an audit trail: decision % may not be changed', OLD.id
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Decisions are never changed; a new decision is a new row.';
END
$$;
COMMENT ON FUNCTION gaffer_job_reviews_append_only() IS 'Trigger of job_reviews_append_only: no UPDATE, DELETE only of decisions older than 30 days.';

CREATE FUNCTION gaffer_job_reviews_no_truncate() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'job_reviews is an audit trail: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Decisions are deleted only after the audit retention (at least 30 days).';
END
$$;
COMMENT ON FUNCTION gaffer_job_reviews_no_truncate() IS 'Trigger of job_reviews_no_truncate: the audit trail is never truncated.';

CREATE TRIGGER job_reviews_append_only BEFORE UPDATE OR DELETE ON job_reviews
    FOR EACH ROW EXECUTE FUNCTION gaffer_job_reviews_append_only();
COMMENT ON TRIGGER job_reviews_append_only ON job_reviews IS 'The audit trail is append-only (V013).';
CREATE TRIGGER job_reviews_no_truncate BEFORE TRUNCATE ON job_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION gaffer_job_reviews_no_truncate();
COMMENT ON TRIGGER job_reviews_no_truncate ON job_reviews IS 'The audit trail is append-only (V013).';
