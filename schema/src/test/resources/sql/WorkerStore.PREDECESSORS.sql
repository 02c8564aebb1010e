SELECT id, host, pid, last_seen_at, last_seen_at < now() - heartbeat_timeout AS silent
  FROM workers WHERE name = ? AND id <> ? ORDER BY started_at, id
