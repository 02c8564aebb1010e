-- The states and events of review beyond the first approval (issue 18). Only enum values here:
-- PostgreSQL does not let the transaction that adds an enum value use it, and V013, which does,
-- runs in a transaction of its own.
--
--   rejected           terminal: a reviewer said no to the job's plan, with a reason. Unlike
--                      failed and cancelled it cannot be retried: a retry would run a plan that a
--                      person turned down.
--   changes_requested  event: a reviewer asked for changes; the job stays pending.
--   revised            event: the submitter replaced the storyboard, which starts a new revision
--                      and asks for review again.

ALTER TYPE job_status ADD VALUE IF NOT EXISTS 'rejected' AFTER 'cancelled';
ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'rejected';
ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'changes_requested';
ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'revised';

COMMENT ON TYPE job_status IS 'Lifecycle of a job: pending -> approved -> processing -> completed | failed, with waiting (sub-jobs), cancelled and rejected (a reviewer said no). See DESIGN.md.';
