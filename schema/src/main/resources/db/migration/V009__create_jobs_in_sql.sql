-- The create transition as SQL functions, so that a job can be created inside the caller's own
-- transaction, committed or rolled back with the rows it belongs to (an order and its invoice
-- job), from any language:
--
--   SELECT gaffer_create_job(type => 'email', parameters => '{"to": "a@example.com"}');
--
-- gaffer_create_jobs takes many jobs as parallel arrays and is what Gaffer itself calls: the API
-- (JobRequests.CREATE) and the Java client's insert in a caller's transaction. Nothing a caller
-- creates is visible, claimable or announced before the caller commits: the rows, their events
-- and the NOTIFY hints are all part of its transaction, and a rollback leaves no trace.
--
-- Both check what the API checks, with the API's messages, and refuse with SQLSTATE 22023 whose
-- COLUMN field names the offending field: the names and ranges of type, queue, priority and
-- max_attempts, parameters a JSON object, the input limits of both documents (nesting at most 64
-- levels, keys of at most 256 and strings of at most 1 000 000 characters, numbers within a
-- double's range; jsonb itself cannot hold NUL or half a surrogate pair), parameters.timeout_ms
-- from 1 ms to 30 days, run_at from 1970 to 9999, an idempotency key of 1 to 255 characters. A job
-- type's own validator (Java, next to its handler) is not run here: the API and the Java client
-- run the validators on their class path.
--
-- A job may be created approved (approved_by set) unless it has a storyboard: a plan that a
-- person must review waits as pending.
--
-- They are SECURITY DEFINER, owned by the schema's owner, with a fixed search_path, so that a
-- role may be allowed to create jobs (EXECUTE, granted in db/roles.sql to gaffer_api and
-- gaffer_client) without any right on the tables. EXECUTE is taken from PUBLIC here.

CREATE FUNCTION gaffer_create_jobs(
        types text[],
        queues text[],
        priorities int[],
        parameters jsonb[],
        storyboards jsonb[],
        max_attempts int[],
        run_ats timestamptz[],
        idempotency_keys text[],
        created_by text[],
        approved_by text[])
    RETURNS TABLE (ord int, job_id bigint, outcome text, status job_status)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    n int := coalesce(cardinality(types), 0);
    i int;
    bad text[];
    bad_ord int;
    -- The ids are drawn before the insert, so that each returned row maps back to its entry.
    ids regclass := pg_get_serial_sequence('jobs', 'id')::regclass;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF cardinality(queues) <> n OR cardinality(priorities) <> n OR cardinality(parameters) <> n
            OR cardinality(storyboards) <> n OR cardinality(max_attempts) <> n OR cardinality(run_ats) <> n
            OR cardinality(idempotency_keys) <> n OR cardinality(created_by) <> n OR cardinality(approved_by) <> n THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'gaffer_create_jobs needs one entry per job in every array';
    END IF;
    -- The API's rules, checked set-wise: one query for the whole call, no function per job (one
    -- cost 40 to 250 µs a job). The input limits of the documents: numbers within a double's range,
    -- and, only for documents large enough to break them, nesting (a container 65 levels down sits
    -- in 64 others of at least 8 bytes each), key and string lengths (a key of 257 characters or a
    -- string of 1 000 001 takes at least as many bytes).
    SELECT r.ord, r.problem INTO bad_ord, bad
      FROM (SELECT u.ord, CASE
                WHEN u.type IS NULL OR u.type !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN ARRAY['type', 'must start with a'
                    || ' lower-case letter and contain only a-z, 0-9, ''_'', ''.'', ''-'' (at most 63 characters)']
                WHEN u.queue !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN ARRAY['queue', 'must start with a'
                    || ' lower-case letter and contain only a-z, 0-9, ''_'', ''.'', ''-'' (at most 63 characters)']
                WHEN u.priority IS NULL OR u.priority NOT BETWEEN -100 AND 100 THEN ARRAY['priority',
                    'must be a whole number from -100 to 100, got ' || coalesce(u.priority::text, 'null')]
                WHEN jsonb_typeof(u.parameters) IS DISTINCT FROM 'object' THEN ARRAY['parameters',
                    'must be a JSON object']
                WHEN pg_column_size(u.parameters) > 256 AND jsonb_path_exists(u.parameters, 'strict $.**{64 to last} ? (@.type() == "object" || @.type() == "array")')
                    THEN ARRAY['parameters', 'nests deeper than 64 levels']
                WHEN jsonb_path_exists(u.parameters, 'strict $.** ? (@.type() == "number" && (@ > 1.7976931348623157e308
                        || @ < -1.7976931348623157e308 || (@ != 0 && @ < 4.9e-324 && @ > -4.9e-324)))')
                    THEN ARRAY['parameters', 'holds a number outside the range of a 64-bit floating-point number'
                        || ' (about ±1.8e308, and at least 4.9e-324 when not zero)']
                WHEN pg_column_size(u.parameters) > 256 AND EXISTS (
                        SELECT 1 FROM jsonb_path_query(u.parameters, 'strict $.** ? (@.type() == "object").keyvalue().key') k
                         WHERE length(k #>> '{}') > 256)
                    THEN ARRAY['parameters', 'has a key of more than 256 characters']
                WHEN pg_column_size(u.parameters) > 1000000 AND EXISTS (
                        SELECT 1 FROM jsonb_path_query(u.parameters, 'strict $.** ? (@.type() == "string")') t
                         WHERE length(t #>> '{}') > 1000000)
                    THEN ARRAY['parameters', 'has a string of more than 1000000 characters']
                WHEN u.parameters ? 'timeout_ms' AND jsonb_typeof(u.parameters -> 'timeout_ms') <> 'null'
                        AND NOT (CASE WHEN jsonb_typeof(u.parameters -> 'timeout_ms') = 'number'
                                           AND (u.parameters ->> 'timeout_ms') ~ '^[0-9]{1,10}$'
                                      THEN (u.parameters ->> 'timeout_ms')::bigint BETWEEN 1 AND 2592000000
                                      ELSE false END) THEN ARRAY['parameters.timeout_ms',
                    'must be a whole number of milliseconds from 1 to 2592000000 (30 days), got '
                    || (u.parameters -> 'timeout_ms')::text]
                WHEN pg_column_size(u.storyboard) > 256 AND jsonb_path_exists(u.storyboard, 'strict $.**{64 to last} ? (@.type() == "object" || @.type() == "array")')
                    THEN ARRAY['storyboard', 'nests deeper than 64 levels']
                WHEN u.storyboard IS NOT NULL AND jsonb_path_exists(u.storyboard, 'strict $.** ? (@.type() == "number" && (@ > 1.7976931348623157e308
                        || @ < -1.7976931348623157e308 || (@ != 0 && @ < 4.9e-324 && @ > -4.9e-324)))')
                    THEN ARRAY['storyboard', 'holds a number outside the range of a 64-bit floating-point number'
                        || ' (about ±1.8e308, and at least 4.9e-324 when not zero)']
                WHEN u.storyboard IS NOT NULL AND pg_column_size(u.storyboard) > 256 AND EXISTS (
                        SELECT 1 FROM jsonb_path_query(u.storyboard, 'strict $.** ? (@.type() == "object").keyvalue().key') k
                         WHERE length(k #>> '{}') > 256)
                    THEN ARRAY['storyboard', 'has a key of more than 256 characters']
                WHEN u.storyboard IS NOT NULL AND pg_column_size(u.storyboard) > 1000000 AND EXISTS (
                        SELECT 1 FROM jsonb_path_query(u.storyboard, 'strict $.** ? (@.type() == "string")') t
                         WHERE length(t #>> '{}') > 1000000)
                    THEN ARRAY['storyboard', 'has a string of more than 1000000 characters']
                WHEN u.max_attempts IS NULL OR u.max_attempts NOT BETWEEN 1 AND 1000 THEN ARRAY['max_attempts',
                    'must be a whole number from 1 to 1000, got ' || coalesce(u.max_attempts::text, 'null')]
                WHEN u.run_at NOT BETWEEN '1970-01-01T00:00:00Z' AND '9999-12-31T23:59:59Z' THEN ARRAY['run_at',
                    'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got ' || u.run_at::text]
                WHEN u.idempotency_key IS NOT NULL
                        AND (btrim(u.idempotency_key) = '' OR length(u.idempotency_key) > 255) THEN
                    ARRAY['idempotency_key', 'must be 1 to 255 characters, without NUL']
                WHEN u.approved_by IS NOT NULL AND btrim(u.approved_by) = '' THEN ARRAY['approved_by',
                    'must name who approved the job']
                WHEN u.approved_by IS NOT NULL AND u.storyboard IS NOT NULL THEN ARRAY['approved_by',
                    'a job with a storyboard waits for a person to approve it; create it without approved_by']
                WHEN u.key_uses > 1 THEN ARRAY['idempotency_key',
                    quote_literal(u.idempotency_key) || ' is given to more than one job of this call']
              END AS problem
              FROM (SELECT x.ord, x.type, coalesce(x.queue, 'default') AS queue, x.priority,
                           coalesce(x.parameters, '{}') AS parameters, nullif(x.storyboard, 'null') AS storyboard,
                           x.max_attempts, x.run_at, x.idempotency_key, x.approved_by,
                           CASE WHEN x.idempotency_key IS NULL THEN 1
                                ELSE count(*) OVER (PARTITION BY x.idempotency_key) END AS key_uses
                      FROM unnest(types, queues, priorities, parameters, storyboards, max_attempts, run_ats,
                                  idempotency_keys, approved_by)
                           WITH ORDINALITY AS x(type, queue, priority, parameters, storyboard, max_attempts, run_at,
                                                idempotency_key, approved_by, ord)) u) r
     WHERE r.problem IS NOT NULL
     ORDER BY r.ord
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            COLUMN = bad[1],
            MESSAGE = CASE WHEN n = 1 THEN '' ELSE 'job ' || bad_ord || ': ' END || bad[1] || ' ' || bad[2];
    END IF;
    RETURN QUERY
    WITH input AS MATERIALIZED (
        SELECT r.ord::int AS ord, nextval(ids) AS id, r.type, coalesce(r.queue, 'default') AS queue,
               r.priority, coalesce(r.parameters, '{}') AS parameters, nullif(r.storyboard, 'null') AS storyboard,
               r.max_attempts, coalesce(r.run_at, now()) AS run_at, r.idempotency_key, r.created_by, r.approved_by
          FROM unnest(types, queues, priorities, parameters, storyboards, max_attempts, run_ats, idempotency_keys,
                      created_by, approved_by)
               WITH ORDINALITY AS r(type, queue, priority, parameters, storyboard, max_attempts, run_at,
                                    idempotency_key, created_by, approved_by, ord)),
    inserted AS (
        INSERT INTO jobs (id, type, queue, priority, parameters, storyboard, max_attempts, run_at, idempotency_key,
                          created_by, status, approved_by, approved_at)
        OVERRIDING SYSTEM VALUE
        SELECT i.id, i.type, i.queue, i.priority, i.parameters, i.storyboard, i.max_attempts, i.run_at,
               i.idempotency_key, i.created_by, CASE WHEN i.approved_by IS NULL THEN 'pending' ELSE 'approved' END::job_status,
               i.approved_by, CASE WHEN i.approved_by IS NULL THEN NULL ELSE now() END
          FROM input i
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING jobs.id, jobs.queue, jobs.status, jobs.attempt, jobs.created_by, jobs.approved_by,
                  jobs.progress_percentage, jobs.current_stage),
    -- One event per job: 'created', in status approved for a job approved at creation.
    changes AS (
        SELECT s.id, s.queue, 'created'::job_event_kind AS kind, s.status, s.attempt, s.created_by AS actor,
               s.progress_percentage, s.current_stage AS stage,
               CASE WHEN s.approved_by IS NOT NULL THEN 'approved at creation by ' || s.approved_by END AS message
          FROM inserted s),
    events AS (
        INSERT INTO job_events (job_id, kind, status, attempt, actor, progress_percentage, stage, message)
        SELECT c.id, c.kind, c.status, c.attempt, c.actor, c.progress_percentage, c.stage, c.message FROM changes c
        RETURNING job_events.id),
    -- The hints of JobHistory.RECORD: approved jobs on the workers' channel, the others on the
    -- events channel. A call that creates one job names it; a bulk call sends one hint per queue
    -- and status, without ids (receivers re-read), not thousands.
    notified AS (
        SELECT pg_notify(CASE WHEN h.status = 'approved' THEN 'gaffer_jobs' ELSE 'gaffer_events' END,
                         json_strip_nulls(json_build_object('event', h.kind, 'id', h.id, 'queue', h.queue))::text)
          FROM (SELECT DISTINCT c.kind, c.status, CASE WHEN n = 1 THEN c.id END AS id, c.queue FROM changes c) h),
    existing AS (
        SELECT i.ord, j.id, j.status,
               CASE WHEN j.type = i.type AND j.parameters = i.parameters THEN 'exists' ELSE 'conflict' END AS outcome
          FROM input i
          JOIN jobs j ON j.idempotency_key = i.idempotency_key
         WHERE i.idempotency_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM inserted s WHERE s.id = i.id))
    SELECT i.ord, s.id, 'created', s.status
      FROM input i JOIN inserted s ON s.id = i.id
     WHERE (SELECT count(*) FROM events) >= 0 AND (SELECT count(*) FROM notified) >= 0
    UNION ALL
    SELECT e.ord, e.id, e.outcome, e.status FROM existing e;
    GET DIAGNOSTICS i = ROW_COUNT;
    IF i <> n THEN
        -- A key's job was pruned between the conflict and the read: the caller runs it again.
        RAISE EXCEPTION USING ERRCODE = '40001',
            MESSAGE = 'created or found ' || i || ' of ' || n || ' jobs; a conflicting job was deleted meanwhile';
    END IF;
END
$$;
COMMENT ON FUNCTION gaffer_create_jobs(text[], text[], int[], jsonb[], jsonb[], int[], timestamptz[], text[], text[], text[]) IS 'Creates jobs in the caller''s transaction: one entry per job in every array; returns each job''s ordinal, id, outcome (created; exists: same idempotency key and request; conflict: same key, another type or parameters) and status. See V009.';

CREATE FUNCTION gaffer_create_job(
        type text,
        parameters jsonb DEFAULT '{}',
        storyboard jsonb DEFAULT NULL,
        queue text DEFAULT 'default',
        priority int DEFAULT 0,
        max_attempts int DEFAULT 3,
        run_at timestamptz DEFAULT NULL,
        idempotency_key text DEFAULT NULL,
        created_by text DEFAULT NULL,
        approved_by text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO r FROM gaffer_create_jobs(
        ARRAY[type], ARRAY[queue], ARRAY[priority], ARRAY[parameters], ARRAY[storyboard], ARRAY[max_attempts],
        ARRAY[run_at], ARRAY[idempotency_key], ARRAY[coalesce(created_by, session_user::text)], ARRAY[approved_by]);
    IF r.outcome = 'conflict' THEN
        RAISE EXCEPTION USING ERRCODE = '23505', COLUMN = 'idempotency_key',
            MESSAGE = 'idempotency key ' || quote_literal(idempotency_key) || ' belongs to job ' || r.job_id
                || ', created with another type or other parameters';
    END IF;
    RETURN r.job_id;
END
$$;
COMMENT ON FUNCTION gaffer_create_job(text, jsonb, jsonb, text, int, int, timestamptz, text, text, text) IS 'Creates one job in the caller''s transaction and returns its id (the existing job''s for a known idempotency key). created_by defaults to the session''s role. See V009.';

REVOKE EXECUTE ON FUNCTION gaffer_create_jobs(text[], text[], int[], jsonb[], jsonb[], int[], timestamptz[], text[], text[], text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gaffer_create_job(text, jsonb, jsonb, text, int, int, timestamptz, text, text, text) FROM PUBLIC;
