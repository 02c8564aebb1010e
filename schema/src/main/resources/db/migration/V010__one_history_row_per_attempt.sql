-- One history row per attempt instead of two. Found with the burn-down benchmark
-- (docs/benchmarks.md, issue 16): every claimed job wrote a 'claimed' row to job_events (a heap
-- tuple and two index entries) and every finished attempt a second row ('completed', 'failed',
-- 'retried', 'waiting', 'reclaimed', 'released'). The claim's row said only who started the
-- attempt and when; the row that ends the attempt now says it too.
--
-- Before: ... approved, claimed (worker, time), progress..., completed (worker, time).
-- After:  ... approved, progress..., completed (worker, time, attempt_started_at).
--
-- So each attempt is still in the history for good, with who ran it, when it started and ended
-- (its duration is created_at - attempt_started_at), its outcome (kind) and its error (message).
-- An attempt that is still running has no row yet: the job's row says who holds it (locked_by)
-- and since when (claimed_at). The enum value 'claimed' stays (enum values cannot be dropped
-- while rows of older versions may be restored), but nothing writes it any more.
--
-- The UPDATE and DELETE below read and rewrite the history once: on a large job_events table,
-- run this migration in a quiet moment.

ALTER TABLE jobs ADD COLUMN claimed_at timestamptz;
COMMENT ON COLUMN jobs.claimed_at IS 'When the current (or, once it ended, the last) attempt was claimed (database clock); NULL until the first claim. The event that ends the attempt copies it to job_events.attempt_started_at.';

ALTER TABLE job_events ADD COLUMN attempt_started_at timestamptz;
COMMENT ON COLUMN job_events.attempt_started_at IS 'For an event that ends an attempt (completed, failed, retried, waiting, reclaimed, released): when that attempt was claimed; the attempt took created_at - attempt_started_at, on the worker in worker_id. NULL for every other event. Since V010 a claim writes no event of its own.';
COMMENT ON COLUMN job_events.worker_id IS 'The worker involved (the attempt''s holder for an event that ends an attempt), if any.';

-- Every row that ends an attempt takes the time of the claim before it.
UPDATE job_events e
   SET attempt_started_at = (
        SELECT c.created_at FROM job_events c
         WHERE c.job_id = e.job_id AND c.id < e.id AND c.kind = 'claimed'
         ORDER BY c.id DESC
         LIMIT 1)
 WHERE e.kind IN ('completed', 'failed', 'retried', 'waiting', 'reclaimed', 'released')
   AND e.worker_id IS NOT NULL;

-- Running attempts keep their start in the job's row; finished jobs keep that of their last one.
UPDATE jobs j
   SET claimed_at = COALESCE((
        SELECT c.created_at FROM job_events c
         WHERE c.job_id = j.id AND c.kind = 'claimed'
         ORDER BY c.id DESC
         LIMIT 1), j.started_at)
 WHERE j.started_at IS NOT NULL;

DELETE FROM job_events WHERE kind = 'claimed';

-- A job held by a worker always says since when.
ALTER TABLE jobs ADD CONSTRAINT jobs_claimed_while_processing CHECK (status <> 'processing' OR claimed_at IS NOT NULL);

COMMENT ON TYPE job_event_kind IS 'What happened to a job, one job_events row per happening. Since V010 no row is written for a claim: the row that ends the attempt carries its start (attempt_started_at).';
