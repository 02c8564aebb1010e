-- A decision that nobody made: a pending job whose review policy has an expiry and that waited
-- longer than it is cancelled by maintenance, and the audit trail says so with the decision
-- 'expired' (reviewer 'gaffer'). Only the enum value here: V015 uses it, in a transaction of its
-- own (PostgreSQL does not let the transaction that adds an enum value use it).

ALTER TYPE review_decision ADD VALUE IF NOT EXISTS 'expired';
COMMENT ON TYPE review_decision IS 'What a reviewer decided: approved (the job runs), rejected (terminal), changes_requested (the job stays pending until its submitter revises it); expired: nobody decided within the review policy''s expiry, and maintenance cancelled the job.';
