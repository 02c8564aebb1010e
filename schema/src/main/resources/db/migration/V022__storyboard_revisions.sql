-- The storyboards a job had before its current one (issue 18): a revision replaces the job's
-- storyboard, and its reviewer wants to see what changed. The statement that revises a job
-- (JobRequests.REVISE) keeps the storyboard it replaces here, under its revision number, in the
-- same statement; jobs.storyboard stays the current one. Deleted with their job.
--
-- roles.sql must be run again after this migration (grants: the API inserts, nobody updates).

CREATE TABLE job_storyboards (
    job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    revision    integer NOT NULL,
    storyboard  jsonb,
    replaced_by text NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, revision),
    CONSTRAINT job_storyboards_revision_positive CHECK (revision >= 1)
);
COMMENT ON TABLE job_storyboards IS 'Storyboards that a revision replaced, one row per replaced revision; the current one is jobs.storyboard. Written by the revising statement only; deleted with their job.';
COMMENT ON COLUMN job_storyboards.job_id IS 'The job.';
COMMENT ON COLUMN job_storyboards.revision IS 'The revision this storyboard was (jobs.storyboard_revision before the revision that replaced it).';
COMMENT ON COLUMN job_storyboards.storyboard IS 'The storyboard as it was at that revision (NULL: the job had none).';
COMMENT ON COLUMN job_storyboards.replaced_by IS 'Who revised it (the submitter, or an admin).';
COMMENT ON COLUMN job_storyboards.replaced_at IS 'When it was replaced.';
