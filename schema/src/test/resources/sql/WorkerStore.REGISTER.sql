INSERT INTO workers (id, name, host, pid, queues, concurrency, running, heartbeat_timeout)
VALUES (?, ?, ?, ?, ?, ?, ?, make_interval(secs => ?::double precision))
ON CONFLICT (id) DO UPDATE
   SET last_seen_at = now(), running = EXCLUDED.running
