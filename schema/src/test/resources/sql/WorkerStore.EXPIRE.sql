DELETE FROM workers WHERE last_seen_at < now() - make_interval(secs => ?::double precision)
