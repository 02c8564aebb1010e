SELECT id, name, host, pid, queues, concurrency, running, started_at, last_seen_at FROM workers WHERE id = ?
