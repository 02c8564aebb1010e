WITH revoked AS (
    UPDATE api_keys SET revoked_at = now()
     WHERE name = ? AND revoked_at IS NULL
    RETURNING id, name, role, key_prefix, created_at, last_used_at, revoked_at),
notified AS (
    SELECT pg_notify('gaffer_keys', json_build_object('event', 'key_revoked', 'id', id)::text) FROM revoked)
SELECT id, name, role, key_prefix, created_at, last_used_at, revoked_at, (SELECT count(*) FROM notified) AS notified FROM revoked
