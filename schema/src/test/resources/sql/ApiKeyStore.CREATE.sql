INSERT INTO api_keys (name, role, key_hash, key_prefix)
VALUES (?, ?::api_key_role, ?, ?)
RETURNING id, name, role, key_prefix, created_at, last_used_at, revoked_at
