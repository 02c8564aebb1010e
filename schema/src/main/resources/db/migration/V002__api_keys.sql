-- Bearer API keys for the REST API. The key itself is shown once, when it is created, and never
-- stored: the table holds its SHA-256. A key is 32 random bytes, so a fast hash is the right one
-- (there is nothing to brute-force; slow password hashes only matter for low-entropy secrets).

CREATE TYPE api_key_role AS ENUM (
    'read',     -- GET routes: jobs, events, streams, stats, workers
    'submit',   -- read, and create jobs
    'approve',  -- submit, and approve, cancel or retry jobs
    'admin'     -- everything
);
COMMENT ON TYPE api_key_role IS 'What an API key may do; each role includes the ones before it: read < submit < approve < admin.';

CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CONSTRAINT api_keys_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$'),
    role         api_key_role NOT NULL,
    key_hash     bytea NOT NULL UNIQUE CONSTRAINT api_keys_hash_length CHECK (length(key_hash) = 32),
    key_prefix   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
COMMENT ON TABLE api_keys IS 'Bearer keys of the REST API (gaffer keys create/list/revoke). Only the SHA-256 of each key is stored; the key is printed once at creation.';
COMMENT ON COLUMN api_keys.id IS 'Surrogate key.';
COMMENT ON COLUMN api_keys.name IS 'Who or what holds the key; recorded as created_by/approved_by/actor on the jobs it touches.';
COMMENT ON COLUMN api_keys.role IS 'What the key may do (enum api_key_role: read < submit < approve < admin).';
COMMENT ON COLUMN api_keys.key_hash IS 'SHA-256 of the full key text (gfr_...). The key is 32 random bytes, so a fast hash suffices.';
COMMENT ON COLUMN api_keys.key_prefix IS 'The first characters of the key, to tell keys apart in listings; not enough to use it.';
COMMENT ON COLUMN api_keys.created_at IS 'When the key was created.';
COMMENT ON COLUMN api_keys.last_used_at IS 'Last successful authentication, updated at most about once a minute per key.';
COMMENT ON COLUMN api_keys.revoked_at IS 'When the key was revoked; a revoked key authenticates nothing. Rows are kept for the audit trail.';
