SELECT id, name, role, key_prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY name
