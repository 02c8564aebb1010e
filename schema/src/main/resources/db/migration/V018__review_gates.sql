-- Gates at any stage (issue 18). A handler may end a run with "await review of gate G, then
-- resume at stage R" (Outcome.AwaitReview): the job gives its lease and its attempt back and is
-- pending again, as it was before its plan was approved, but at gate G. It holds no lease and no
-- slot, so there is nothing to reclaim however long it waits. The decisions on it are those on a
-- plan (JobRequests), told apart by the gate:
--   approve          (with the gate's quorum) -> approved at the resume stage, on any worker;
--   reject           -> failed, with the reason as its error (a retry runs the redo stage, so
--                       what was turned down is made again and reviewed again);
--   request changes  -> approved at the redo stage: the stage that produces what was reviewed.
-- Each decision is a job_reviews row with the gate, and the policy of (job type, gate) applies
-- (review_policies, V015/V016): role, four eyes, quorum, expiry.
--
-- Only top-level jobs stop at a gate: a sub-job is run for its parent, and a person reviews the
-- parent (jobs_gate_top_level).
--
-- roles.sql must be run again after this migration (grants and guards for the new columns).

ALTER TABLE jobs ADD COLUMN review_gate text NOT NULL DEFAULT 'plan';
ALTER TABLE jobs ADD COLUMN gate_round integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN review_summary jsonb;
ALTER TABLE jobs ADD COLUMN redo_stage text;

-- The checks short-circuit on the plan, so that the writes of jobs that never reach a gate (every
-- claim and completion checks every constraint) pay a comparison, not a regular expression.
ALTER TABLE jobs ADD CONSTRAINT jobs_review_gate_format
    CHECK (review_gate = 'plan' OR review_gate ~ '^[a-z][a-z0-9_.-]{0,62}$');
ALTER TABLE jobs ADD CONSTRAINT jobs_gate_after_approval CHECK (review_gate = 'plan' OR approved_at IS NOT NULL);
ALTER TABLE jobs ADD CONSTRAINT jobs_gate_top_level CHECK (review_gate = 'plan' OR parent_id IS NULL);
ALTER TABLE jobs ADD CONSTRAINT jobs_gate_round_counts CHECK (gate_round >= 0 AND (review_gate = 'plan') = (gate_round = 0));
ALTER TABLE jobs ADD CONSTRAINT jobs_review_summary_size
    CHECK (review_summary IS NULL OR octet_length(review_summary::text) <= 1048576);

COMMENT ON COLUMN jobs.review_gate IS 'The gate of the job''s review: plan (its storyboard, before it first runs) or a gate its handler stopped at (Outcome.AwaitReview). While the job is pending the review of this gate is open; afterwards it is the last gate the job reached.';
COMMENT ON COLUMN jobs.gate_round IS 'How many times the job has stopped at a gate after its plan (0 until then). A gate''s decisions name it as their revision in job_reviews, so that a quorum counts each stop afresh.';
COMMENT ON COLUMN jobs.review_summary IS 'What the reviewers of the current gate look at, as the handler described it (for the video pipeline: the rendered scene clips). NULL at the plan, where the storyboard is what is reviewed.';
COMMENT ON COLUMN jobs.redo_stage IS 'The stage that produces what the gate reviews: a request for changes, or a retry after a rejection, runs the job again from it. NULL: from the start.';
COMMENT ON COLUMN jobs.resume_stage IS 'Stage the job resumes at: when its last sub-job has finished, or when a reviewer approves the gate it waits at.';
COMMENT ON COLUMN job_reviews.gate IS 'What was reviewed: plan (the storyboard, before the job first runs) or a gate the job stopped at (jobs.review_gate).';
COMMENT ON COLUMN job_reviews.revision IS 'What revision was decided on: at the plan the storyboard revision (jobs.storyboard_revision), at a later gate the job''s stop at a gate (jobs.gate_round).';
COMMENT ON COLUMN review_policies.gate IS 'What is reviewed: plan (the storyboard, before the job first runs) or a gate the job type declares.';
COMMENT ON TYPE job_event_kind IS 'What happened to a job, one job_history row per happening. Since V010 no row is written for a claim: the row that ends the attempt carries its start (attempt_started_at). Since V011 a completion is kept in its job''s row, not in job_events. awaiting_review (V017): the job stopped at a gate for a person''s decision.';
