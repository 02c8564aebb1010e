-- V018's five CHECKs on jobs as one (issue 16). PostgreSQL evaluates every CHECK of a table, one
-- by one, on every new row version, and a job writes two or three of them (claim, completion);
-- a job at its plan, which is nearly every job, now passes the one with three comparisons. The
-- rules are the same: at the plan no stop at a gate and no summary; at a later gate a gate's name,
-- its stop counted from 1, an approved top-level job, a summary of at most 1 MiB.
--
-- Measured (docs/benchmarks.md, 2026-12-07): bench/run --scenario sqlcost, rounds of 256, put the
-- review CHECKs at about 1 % of the server's CPU per job, inside the runs' spread; the burn-down
-- of 2 x 32 showed no difference between the builds before and after this migration.

ALTER TABLE jobs
    DROP CONSTRAINT jobs_review_gate_format,
    DROP CONSTRAINT jobs_gate_after_approval,
    DROP CONSTRAINT jobs_gate_top_level,
    DROP CONSTRAINT jobs_gate_round_counts,
    DROP CONSTRAINT jobs_review_summary_size;
ALTER TABLE jobs ADD CONSTRAINT jobs_review_gate_rules CHECK (
    (review_gate = 'plan' AND gate_round = 0 AND review_summary IS NULL)
    OR (review_gate <> 'plan' AND review_gate ~ '^[a-z][a-z0-9_.-]{0,62}$' AND gate_round >= 1
        AND approved_at IS NOT NULL AND parent_id IS NULL
        AND (review_summary IS NULL OR octet_length(review_summary::text) <= 1048576)));
COMMENT ON CONSTRAINT jobs_review_gate_rules ON jobs IS 'At the plan: no stop at a gate yet, no summary. At a later gate (V018): a gate''s name, its stop counted from 1, an approved top-level job, a summary of at most 1 MiB.';
