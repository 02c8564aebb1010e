-- Escalation (issue 18): a review policy may escalate a review that nobody decided within its
-- expiry instead of cancelling the job. Only the enum values here: V020 uses them, in a
-- transaction of its own (PostgreSQL does not let the transaction that adds an enum value use it).
--
--   review_decision 'escalated'  maintenance recorded that the review expired and that from now
--                                 on only an admin key decides it (reviewer 'gaffer').
--   job_event_kind  'escalated'  the same, in the job's history and on the live streams.

ALTER TYPE review_decision ADD VALUE IF NOT EXISTS 'escalated';
ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'escalated';
COMMENT ON TYPE review_decision IS 'What a reviewer decided: approved (the job runs, or goes on from its gate), rejected (at the plan terminal, at a later gate the job fails), changes_requested (the submitter revises the plan, or the job makes again what a gate reviewed); expired: nobody decided within the policy''s expiry and maintenance cancelled the job; escalated: nobody decided within it and from then on only an admin decides.';
