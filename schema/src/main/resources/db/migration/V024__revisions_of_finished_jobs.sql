-- Every version kept (issue 19). A finished job can be edited (a scene of a video, its whole
-- storyboard): the edit is the job's next storyboard revision, which goes back to review
-- (pending at its plan) and then runs again, rerendering only what changed. What the earlier
-- revisions produced stays:
--
-- * job_artifacts gets revisions. A file that a job stores again under the same name at a newer
--   storyboard revision is a new row (revision = the previous one + 1) instead of replacing the
--   old one; stored again within one storyboard revision (a retry), it replaces that revision's
--   row as before. storyboard_revision says which storyboard made it. Readers take the newest
--   revision unless they ask for another (GET …/artifacts/video.mp4?revision=1). A handler may
--   keep only the newest N revisions of a name (ArtifactStore.put with a limit); the rest go with
--   the job when it is pruned.
-- * job_storyboards (V022) keeps, for a revision replaced after it ran, how it ended and its result.
--
-- Existing artifacts become revision 1 of their name, made by their job's current storyboard
-- revision. roles.sql must be run again after this migration (the reopening statement's grants).

ALTER TABLE job_artifacts
    ADD COLUMN revision integer NOT NULL DEFAULT 1,
    ADD COLUMN storyboard_revision integer;
UPDATE job_artifacts a SET storyboard_revision = j.storyboard_revision FROM jobs j WHERE j.id = a.job_id;
ALTER TABLE job_artifacts
    ALTER COLUMN storyboard_revision SET NOT NULL,
    DROP CONSTRAINT job_artifacts_pkey,
    ADD PRIMARY KEY (job_id, name, revision),
    ADD CONSTRAINT job_artifacts_revisions_positive CHECK (revision >= 1 AND storyboard_revision >= 1);
COMMENT ON COLUMN job_artifacts.revision IS 'Revision of the file under its name within the job: 1, 2, … (V024). Stored again at a newer storyboard revision, a file is a new revision; within one storyboard revision it replaces that revision. The newest is served unless another is asked for.';
COMMENT ON COLUMN job_artifacts.storyboard_revision IS 'The job''s storyboard revision (jobs.storyboard_revision) that produced this revision of the file.';
COMMENT ON TABLE job_artifacts IS 'Files produced by jobs (e.g. video.mp4), one row per revision of each name (V024), written by the lease holder only, served by GET /api/v3/jobs/{id}/artifacts/{name}[?revision=N]. Deleted with their job.';

ALTER TABLE job_storyboards
    ADD COLUMN ended_as job_status,
    ADD COLUMN result jsonb,
    ADD CONSTRAINT job_storyboards_ended_as_finished
        CHECK (ended_as IS NULL OR ended_as IN ('completed', 'failed', 'cancelled')),
    ADD CONSTRAINT job_storyboards_result_only_when_completed CHECK (result IS NULL OR ended_as = 'completed');
COMMENT ON COLUMN job_storyboards.ended_as IS 'How the job ended at this revision when a revision replaced it after it finished (completed, failed, cancelled); NULL when it was replaced while pending (V024).';
COMMENT ON COLUMN job_storyboards.result IS 'The job''s result at this revision, when that revision completed; the job''s row holds only the current revision''s (V024).';

-- A reopened job is at its plan again but keeps counting its stops at gates (gate_round), so that
-- a stop after the reopening is a new revision of its gate's review in job_reviews and nobody's
-- earlier approval of the gate counts for it. At the plan, gate_round is therefore 0 only until a
-- job first stops at a gate; the other rules of V023 are unchanged.
ALTER TABLE jobs DROP CONSTRAINT jobs_review_gate_rules;
ALTER TABLE jobs ADD CONSTRAINT jobs_review_gate_rules CHECK (
    (review_gate = 'plan' AND gate_round >= 0 AND review_summary IS NULL AND (gate_round = 0 OR parent_id IS NULL))
    OR (review_gate <> 'plan' AND review_gate ~ '^[a-z][a-z0-9_.-]{0,62}$' AND gate_round >= 1
        AND approved_at IS NOT NULL AND parent_id IS NULL
        AND (review_summary IS NULL OR octet_length(review_summary::text) <= 1048576)));
COMMENT ON CONSTRAINT jobs_review_gate_rules ON jobs IS 'At the plan: no summary, and stops at gates only of a top-level job reopened after it ran (V024). At a later gate (V018): a gate''s name, its stop counted from 1 over the job''s life, an approved top-level job, a summary of at most 1 MiB.';
