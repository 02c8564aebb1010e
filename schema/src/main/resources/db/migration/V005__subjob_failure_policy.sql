-- What a waiting parent does when one of its sub-jobs fails for good.
CREATE TYPE subjob_failure_policy AS ENUM (
    'wait_all',  -- wait for every sub-job; the handler sees the failures when it resumes and decides
    'fail_fast'  -- the first failed sub-job fails the parent at once and cancels the unfinished siblings
);
COMMENT ON TYPE subjob_failure_policy IS 'Failure policy of a job that waits for sub-jobs: wait_all or fail_fast.';

-- A constant default: PostgreSQL adds the column without rewriting the table.
ALTER TABLE jobs ADD COLUMN on_subjob_failure subjob_failure_policy NOT NULL DEFAULT 'wait_all';
COMMENT ON COLUMN jobs.on_subjob_failure IS 'Set when the job spawns sub-jobs: wait_all (resume when all have finished, failed or not) or fail_fast (a failed sub-job fails this job and cancels its unfinished siblings).';
