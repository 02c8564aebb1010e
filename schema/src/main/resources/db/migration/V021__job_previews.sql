-- Previews before approval (issue 18): a job type may declare a cheap, bounded preview that a
-- worker runs while the job is pending, so that its reviewer looks at what the plan would make
-- (for the video pipeline: one small frame per scene) rather than at JSON. A preview belongs to
-- one storyboard revision: a revision asks for a new one, and the decision on a revision is made
-- with its preview at hand.
--
-- A preview is not a run of the job. It has a lease of its own (locked_by, attempt,
-- lease_expires_at), so the job stays pending, holds no slot and keeps its attempts; its result
-- is its own column, never the job's; its files are artifacts of the job named
-- preview-r<revision>-…, written only under the preview's lease (ArtifactStore.putPreview).
-- A preview whose worker died is queued again once its lease expired, at most three attempts.
--
-- roles.sql must be run again after this migration (grants for job_previews).

CREATE TYPE preview_status AS ENUM ('queued', 'running', 'done', 'failed');
COMMENT ON TYPE preview_status IS 'A preview''s lifecycle: queued -> running (leased by one worker) -> done | failed; running -> queued again when its lease expired with attempts left.';

CREATE TABLE job_previews (
    job_id           bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    revision         integer NOT NULL,
    status           preview_status NOT NULL DEFAULT 'queued',
    attempt          integer NOT NULL DEFAULT 0,
    locked_by        text,
    lease_expires_at timestamptz,
    result           jsonb,
    error            text,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    PRIMARY KEY (job_id, revision),
    CONSTRAINT job_previews_revision_positive CHECK (revision >= 1),
    CONSTRAINT job_previews_attempts CHECK (attempt BETWEEN 0 AND 3),
    CONSTRAINT job_previews_leased_iff_running
        CHECK ((status = 'running') = (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT job_previews_result_when_done CHECK ((result IS NOT NULL) = (status = 'done')),
    CONSTRAINT job_previews_error_when_failed CHECK (status <> 'failed' OR error IS NOT NULL),
    CONSTRAINT job_previews_finished_iff_ended CHECK ((status IN ('done', 'failed')) = (finished_at IS NOT NULL)),
    CONSTRAINT job_previews_result_size CHECK (result IS NULL OR octet_length(result::text) <= 65536),
    CONSTRAINT job_previews_error_length CHECK (error IS NULL OR length(error) <= 4000)
);
COMMENT ON TABLE job_previews IS 'Previews of pending jobs, one per storyboard revision, made by workers before a person decides (issue 18). Never a run of the job: the job stays pending and its result untouched. Deleted with their job.';
COMMENT ON COLUMN job_previews.job_id IS 'The pending job previewed.';
COMMENT ON COLUMN job_previews.revision IS 'The storyboard revision previewed (jobs.storyboard_revision when it was asked for).';
COMMENT ON COLUMN job_previews.status IS 'queued, running (leased), done (result set) or failed (error set, after three attempts or a handler''s refusal).';
COMMENT ON COLUMN job_previews.attempt IS 'Claims so far, at most 3.';
COMMENT ON COLUMN job_previews.locked_by IS 'The worker (workers.id) running it; set exactly while running. Every write of the preview is fenced by it and attempt.';
COMMENT ON COLUMN job_previews.lease_expires_at IS 'When a running preview whose worker said nothing is queued again (or fails, with no attempts left).';
COMMENT ON COLUMN job_previews.result IS 'What the preview handler returned (for the video: each scene''s frame and its URL), at most 64 KiB.';
COMMENT ON COLUMN job_previews.error IS 'Why the preview failed.';
COMMENT ON COLUMN job_previews.requested_at IS 'When the preview was asked for (the job''s creation or revision).';
COMMENT ON COLUMN job_previews.started_at IS 'When its latest attempt was claimed.';
COMMENT ON COLUMN job_previews.finished_at IS 'When it was done or failed.';

CREATE INDEX job_previews_queued_idx ON job_previews (requested_at) WHERE status IN ('queued', 'running');
COMMENT ON INDEX job_previews_queued_idx IS 'The previews workers may claim or reclaim, oldest first.';
