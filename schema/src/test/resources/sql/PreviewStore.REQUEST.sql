INSERT INTO job_previews (job_id, revision)
SELECT id, storyboard_revision FROM jobs WHERE id = ? AND status = 'pending' AND review_gate = 'plan'
ON CONFLICT (job_id, revision) DO NOTHING
RETURNING job_id
