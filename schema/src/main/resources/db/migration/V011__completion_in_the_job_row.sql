-- A job's completion is recorded in its own row instead of a job_events row. Found with the
-- burn-down benchmark (docs/benchmarks.md, issue 16): since V010 a no-op job cost the server two
-- new versions of its jobs row and one job_events row with two index entries; the events row was
-- 12 % of the server's CPU per job (bench sqlcost). The completing statement already writes who
-- held the job (locked_by until now), when the attempt began (claimed_at) and when it ended
-- (finished_at); it now keeps the worker in completed_by and takes the event's id from the events'
-- own sequence into finished_event_id, so nothing of the history is lost.
--
-- Before: job_events ... approved, completed (id 41, worker w/b, attempt_started_at, created_at).
-- After:  job_events ... approved; jobs: finished_event_id 41, completed_by w/b, claimed_at, finished_at.
--
-- The view job_history puts both together: every row of job_events and, for each completed job,
-- its completion with the same columns, the same id and the same values it had as a row. Read the
-- history from job_history (the API and its live streams do); job_events alone now lacks the
-- completions. A completion is the last thing that happens to a job (completed is terminal), so
-- its row never needs to hold two.
--
-- finished_event_id is set by every transition to a terminal status (completed, failed,
-- cancelled): for a completion it is the completion's event id, for a failure or a cancellation
-- the id of its job_events row. Its index orders finished jobs by when they finished, and serves
-- what jobs_finished_idx served (pruning, the dashboard's throughput) as well as the completions
-- in the live feed (id > cursor), so one index entry per finished job replaces three (the old
-- index's and the two of the events row).
--
-- The UPDATEs and the DELETE below read and rewrite the history once: on a large job_events
-- table, run this migration in a quiet moment. roles.sql must be run again after it (the new
-- columns, the view and the events sequence need grants).

ALTER TABLE jobs
    ADD COLUMN completed_by text,
    ADD COLUMN finished_event_id bigint;
COMMENT ON COLUMN jobs.completed_by IS 'The worker that ran the attempt that completed the job; NULL unless completed. With claimed_at and finished_at, the completion''s entry of the history (view job_history).';
COMMENT ON COLUMN jobs.finished_event_id IS 'The history id (job_history.id) of the event that finished the job: its completion (kept in this row), or its failed or cancelled row in job_events. NULL while it is not finished. Increases with the time jobs finish: the order of jobs_finished_event_idx.';

-- Completed jobs take their completion out of job_events.
UPDATE jobs j
   SET completed_by = COALESCE(e.worker_id, 'unknown'), finished_event_id = e.id
  FROM (SELECT DISTINCT ON (job_id) job_id, id, worker_id
          FROM job_events WHERE kind = 'completed'
         ORDER BY job_id, id DESC) e
 WHERE e.job_id = j.id AND j.status = 'completed';

-- Failed and cancelled jobs point at the newest event that left them so.
UPDATE jobs j
   SET finished_event_id = e.id
  FROM (SELECT DISTINCT ON (job_id) job_id, id, status
          FROM job_events
         ORDER BY job_id, id DESC) e
 WHERE e.job_id = j.id AND j.status IN ('failed', 'cancelled') AND e.status = j.status;

-- Finished rows without such an event (written by hand) get an id of their own.
UPDATE jobs SET completed_by = 'unknown' WHERE status = 'completed' AND completed_by IS NULL;
UPDATE jobs SET finished_event_id = nextval('job_events_id_seq')
 WHERE finished_at IS NOT NULL AND finished_event_id IS NULL;

DELETE FROM job_events WHERE kind = 'completed';

ALTER TABLE jobs
    ADD CONSTRAINT jobs_finished_event_iff_finished CHECK ((finished_event_id IS NULL) = (finished_at IS NULL)),
    ADD CONSTRAINT jobs_completed_by_iff_completed CHECK ((completed_by IS NOT NULL) = (status = 'completed'));
ALTER TABLE job_events
    ADD CONSTRAINT job_events_completion_in_job_row CHECK (kind <> 'completed');
COMMENT ON CONSTRAINT job_events_completion_in_job_row ON job_events IS 'Since V011 a completion is kept in its job''s row (completed_by, finished_event_id); job_history shows it.';

DROP INDEX jobs_finished_idx;
CREATE INDEX jobs_finished_event_idx ON jobs (finished_event_id) WHERE finished_event_id IS NOT NULL;
COMMENT ON INDEX jobs_finished_event_idx IS 'Finished jobs in the order they finished: pruning (oldest first), the throughput per minute (newest first), and the completions of the live event feed (job_history.id > cursor).';

CREATE VIEW job_history AS
SELECT id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message, created_at,
       attempt_started_at
  FROM job_events
UNION ALL
SELECT finished_event_id, id, 'completed'::job_event_kind, status, attempt, completed_by, NULL::text,
       progress_percentage, current_stage, NULL::text, finished_at, claimed_at
  FROM jobs
 WHERE status = 'completed';
COMMENT ON VIEW job_history IS 'Every job''s whole history, one row per event, ordered by id: the rows of job_events and, for each completed job, its completion from its own row (V011). The API''s history and live streams read this view.';

COMMENT ON TABLE job_events IS 'Append-only history of every job transition except completions, which are kept in the job''s row since V011: read job_history for the whole history. Ids increase monotonically (shared with jobs.finished_event_id), so a client resumes a feed with since=<last id seen>. Deleted with their job when it is pruned.';
COMMENT ON TYPE job_event_kind IS 'What happened to a job, one job_history row per happening. Since V010 no row is written for a claim: the row that ends the attempt carries its start (attempt_started_at). Since V011 a completion is kept in its job''s row, not in job_events.';
