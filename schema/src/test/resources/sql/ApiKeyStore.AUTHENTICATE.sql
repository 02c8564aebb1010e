WITH found AS (
    SELECT id, key_hash FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL),
touched AS (
    UPDATE api_keys k SET last_used_at = now()
      FROM found f
     WHERE k.id = f.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
    RETURNING k.id)
SELECT k.id, k.name, k.role, k.key_prefix, k.created_at, k.last_used_at, k.revoked_at, f.key_hash,
       (SELECT count(*) FROM touched) AS touched
  FROM api_keys k JOIN found f ON f.id = k.id
