-- Leases that carry their own expiry, workers that record their lease timeout, and 100 % that
-- means completed.
--
-- Until now the reclaimer judged every lease by its own GAFFER_HEARTBEAT_TIMEOUT: a worker that
-- beats every 10 s with a 30 s timeout had its healthy jobs reclaimed after 5 s by a worker
-- configured with a 5 s timeout. The holder now writes when its lease ends, at the claim and at
-- every heartbeat (now() + its own timeout), and the reclaimer takes only leases whose end has
-- passed, whatever its own settings. The column is written by the same statements that write
-- heartbeat_at and is not indexed, so heartbeats stay HOT.
--
-- Adding the CHECK constraints reads the whole table under an exclusive lock: run this migration
-- in a quiet moment on a large table.

ALTER TABLE jobs ADD COLUMN lease_expires_at timestamptz;
COMMENT ON COLUMN jobs.lease_expires_at IS 'When the lease ends unless its holder beats again: now() + the holder''s heartbeat timeout, written at the claim and at every heartbeat (database clock). Set exactly while processing. The reclaimer takes a job once this has passed.';

-- Leases held while this migration runs get the default timeout (15 s) from their last beat; the
-- next heartbeat of a live holder writes its own.
UPDATE jobs SET lease_expires_at = heartbeat_at + interval '15 seconds' WHERE status = 'processing';

ALTER TABLE jobs ADD CONSTRAINT jobs_lease_expiry_iff_processing
    CHECK ((status = 'processing') = (lease_expires_at IS NOT NULL));

COMMENT ON COLUMN jobs.heartbeat_at IS 'Last heartbeat of the lease holder (database clock); set exactly while processing. Whether the lease is still good is lease_expires_at''s to say.';

-- Startup recovery frees a predecessor's jobs only when the predecessor is really gone; one way to
-- know is that it has not been seen for longer than its own heartbeat timeout.
ALTER TABLE workers ADD COLUMN heartbeat_timeout interval NOT NULL DEFAULT interval '15 seconds';
COMMENT ON COLUMN workers.heartbeat_timeout IS 'The worker''s GAFFER_HEARTBEAT_TIMEOUT, the length of the leases it takes: not seen for longer than this, it is presumed gone.';
COMMENT ON COLUMN workers.name IS 'Configured worker name (GAFFER_WORKER_NAME; by default <host>-<pid>). A worker that starts under the name of a predecessor that is gone (its process is dead on this host, or it has not been seen for longer than its heartbeat timeout) frees the predecessor''s jobs at once.';
COMMENT ON COLUMN workers.id IS 'Unique per process start: <name>/<random suffix>. This is what jobs.locked_by holds.';

-- 100 % means completed: a waiting parent's roll-up stops short of it, and a handler's progress
-- is capped below it until its job completes. Rows that disagree are set right first.
UPDATE jobs SET progress_percentage = 99 WHERE progress_percentage = 100 AND status <> 'completed';
UPDATE jobs SET progress_percentage = 100 WHERE status = 'completed' AND progress_percentage <> 100;
ALTER TABLE jobs ADD CONSTRAINT jobs_full_progress_iff_completed
    CHECK ((progress_percentage = 100) = (status = 'completed'));
COMMENT ON COLUMN jobs.progress_percentage IS 'Progress from 0 to 100 as reported by the handler (written with the heartbeat, so at most one heartbeat interval old); while waiting, the finished share of its sub-jobs, scaled to at most 90. 100 exactly when completed.';
