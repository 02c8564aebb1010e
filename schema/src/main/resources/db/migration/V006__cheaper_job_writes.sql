-- Cheaper writes to jobs, found with the burn-down benchmark (docs/benchmarks.md): every claim and
-- every completion writes a new version of the row, and PostgreSQL checks every CHECK constraint of
-- the table on every new version, whether or not the column changed. The two name formats are
-- regular expressions, matched against 'noop' and 'default' again and again: with them a claimed
-- and completed job cost the server 16 % more CPU (bench/run --scenario sqlcost, median of 7
-- runs, docs/benchmarks.md). A domain's constraint is checked only when a value is
-- assigned to the column (insert, or an update that sets it), which is exactly when it can become
-- wrong. Same rule, same strength, checked once per value instead of once per row version.
--
-- Changing a column's type to a domain with a constraint rewrites the table under an exclusive
-- lock: run this migration before the table is large, or in a maintenance window.

CREATE DOMAIN job_name AS text
    CONSTRAINT job_name_format CHECK (VALUE ~ '^[a-z][a-z0-9_.-]{0,62}$');
COMMENT ON DOMAIN job_name IS 'Name of a job type or queue: lower case letters, digits, _ . -; starts with a letter; at most 63 characters.';

CREATE DOMAIN job_parameters AS jsonb
    CONSTRAINT job_parameters_object CHECK (jsonb_typeof(VALUE) = 'object');
COMMENT ON DOMAIN job_parameters IS 'The input of a job: a JSON object.';

-- The view reads jobs.type; a column used by a view cannot change its type.
DROP VIEW job_trees;

ALTER TABLE jobs
    DROP CONSTRAINT jobs_type_format,
    DROP CONSTRAINT jobs_queue_format,
    DROP CONSTRAINT jobs_parameters_object,
    ALTER COLUMN type TYPE job_name,
    ALTER COLUMN queue TYPE job_name,
    ALTER COLUMN parameters TYPE job_parameters;

CREATE VIEW job_trees AS
SELECT p.id            AS parent_id,
       p.type          AS parent_type,
       p.status        AS parent_status,
       p.current_stage AS parent_stage,
       p.subjobs_total,
       p.subjobs_open,
       count(c.id) FILTER (WHERE c.status = 'approved')   AS approved,
       count(c.id) FILTER (WHERE c.status = 'processing') AS processing,
       count(c.id) FILTER (WHERE c.status = 'waiting')    AS waiting,
       count(c.id) FILTER (WHERE c.status = 'completed')  AS completed,
       count(c.id) FILTER (WHERE c.status = 'failed')     AS failed,
       count(c.id) FILTER (WHERE c.status = 'cancelled')  AS cancelled
  FROM jobs p
  JOIN jobs c ON c.parent_id = p.id
 GROUP BY p.id;
COMMENT ON VIEW job_trees IS 'Each job that has sub-jobs, with its sub-jobs counted by status. subjobs_open should equal approved + processing + waiting (+ pending, never used for sub-jobs).';

-- A unique constraint indexes every row, NULL keys included, so every new row version (two per
-- job at least: claim and completion) added an entry for a NULL key that no lookup ever reads. A
-- partial unique index holds only the jobs created with an Idempotency-Key and keeps them unique.
-- INSERT … ON CONFLICT names it with (idempotency_key) WHERE idempotency_key IS NOT NULL.
ALTER TABLE jobs DROP CONSTRAINT jobs_idempotency_key_unique;
CREATE UNIQUE INDEX jobs_idempotency_key_idx ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
COMMENT ON INDEX jobs_idempotency_key_idx IS 'Idempotency keys are unique; partial, so jobs created without one cost it nothing.';
