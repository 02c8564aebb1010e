-- Waiting for external work without holding a worker (issue 19). A handler that submits work to
-- an external service (a prediction API) asks for a callback URL for its attempt, passes it to the
-- service as a webhook, and returns Outcome.awaitCallback(timeout): the job gives its lease and its
-- attempt back and is approved again with run_at at the next poll or the deadline, holding no slot.
-- The service's POST /api/v3/callbacks/{token} stores what it sent here and makes the job
-- claimable at once; the handler runs again at its resume stage and reads the callback.
--
-- One row per job: the wait of its current attempt. The token names the job and the row's nonce
-- and is signed with the secret below (HMAC-SHA256), so that only the API and the workers can make
-- one. A token is good once (received_at), until the wait's deadline (expires_at), and only for
-- the attempt that asked (attempt): a callback for an older attempt, a replayed one or one after
-- the deadline changes nothing. A person's retry or reopening of the job deletes the row.
--
-- roles.sql must be run again after this migration (grants and transition guards).

CREATE TABLE job_callbacks (
    job_id      bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    nonce       uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    received_at timestamptz,
    payload     jsonb,
    CONSTRAINT job_callbacks_attempt_positive CHECK (attempt >= 1),
    CONSTRAINT job_callbacks_payload_iff_received CHECK ((payload IS NULL) = (received_at IS NULL)),
    CONSTRAINT job_callbacks_payload_size CHECK (payload IS NULL OR octet_length(payload::text) <= 1048576),
    CONSTRAINT job_callbacks_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at)
);
COMMENT ON TABLE job_callbacks IS 'A job''s wait for an external service to call back (issue 19): one row per job, for its current attempt. Written by the worker that holds the job (issue, wait) and by the API (the callback); deleted with the job, and by a person''s retry or reopening.';
COMMENT ON COLUMN job_callbacks.job_id IS 'The waiting job.';
COMMENT ON COLUMN job_callbacks.attempt IS 'The attempt that asked for the callback (jobs.attempt while it held the lease). A callback is taken only while the job is that attempt, running or waiting.';
COMMENT ON COLUMN job_callbacks.nonce IS 'Named by the token (with the job id and the HMAC of both): a new one for every new wait.';
COMMENT ON COLUMN job_callbacks.created_at IS 'When the handler asked for the callback URL.';
COMMENT ON COLUMN job_callbacks.expires_at IS 'The deadline of the wait, set when the handler first waits (now + its timeout); NULL before. No callback is taken after it, and a wait past it fails the attempt.';
COMMENT ON COLUMN job_callbacks.received_at IS 'When the service called back; NULL until then. A token is good once.';
COMMENT ON COLUMN job_callbacks.payload IS 'The JSON body the service sent (at most 1 MiB), handed to the handler when it resumes.';

CREATE TABLE gaffer_secrets (
    name       text PRIMARY KEY,
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gaffer_secrets_long_enough CHECK (octet_length(secret) >= 32)
);
COMMENT ON TABLE gaffer_secrets IS 'Keys that Gaffer''s own processes share through the database; readable by the API and workers only. callback_tokens signs the callback URLs of job_callbacks (HMAC-SHA256). Replacing it makes every outstanding callback URL invalid.';
-- 48 bytes from PostgreSQL's strong random source: three gen_random_uuid(), 122 random bits each.
INSERT INTO gaffer_secrets (name, secret)
VALUES ('callback_tokens', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
