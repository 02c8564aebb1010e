-- Gates at any stage (issue 18): a running job may stop for a review of what it has produced so
-- far (for the video pipeline: the rendered scenes, before the stitch). Only the enum value here:
-- V018 uses it, in a transaction of its own (PostgreSQL does not let the transaction that adds an
-- enum value use it).
--
--   awaiting_review  event: the job's handler gave its lease back and the job waits, pending, for
--                    a decision on a gate (jobs.review_gate).

ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'awaiting_review';
