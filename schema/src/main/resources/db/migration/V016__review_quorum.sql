-- A quorum of reviewers (issue 18): a job type's review policy may ask for N distinct approvals
-- of the same storyboard revision before the job runs. The approvals so far are counted in the
-- job's row (review_approvals), written by the approving statement itself: two reviewers who
-- approve at the same moment are serialized by the row's lock, and the second statement re-reads
-- the count the first one wrote (a count of job_reviews rows, read from the statement's snapshot,
-- would miss the other's). A revision starts the count again. One reviewer approves a revision
-- once (the unique index below).
--
-- review_approvals is not indexed, so approvals that do not yet make the quorum stay HOT updates.

ALTER TABLE review_policies ADD COLUMN quorum integer NOT NULL DEFAULT 1;
ALTER TABLE review_policies ADD CONSTRAINT review_policies_quorum_range CHECK (quorum BETWEEN 1 AND 10);
COMMENT ON COLUMN review_policies.quorum IS 'How many distinct reviewers must approve the same storyboard revision before the job runs; 1 by default.';

ALTER TABLE jobs ADD COLUMN review_approvals integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD CONSTRAINT jobs_review_approvals_positive CHECK (review_approvals >= 0);
COMMENT ON COLUMN jobs.review_approvals IS 'Approvals of the current storyboard revision so far (a policy''s quorum); a revision sets it back to 0.';

CREATE UNIQUE INDEX job_reviews_one_approval_idx ON job_reviews (job_id, gate, revision, reviewer)
    WHERE decision = 'approved';
COMMENT ON INDEX job_reviews_one_approval_idx IS 'A reviewer approves a revision once: a quorum counts distinct people.';
