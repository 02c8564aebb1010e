UPDATE workers SET last_seen_at = now(), running = ? WHERE id = ?
