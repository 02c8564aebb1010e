SELECT m.minute,
       count(j.id) FILTER (WHERE j.status = 'completed') AS completed,
       count(j.id) FILTER (WHERE j.status = 'failed')    AS failed,
       count(j.id) FILTER (WHERE j.status = 'cancelled') AS cancelled
  FROM generate_series(date_trunc('minute', now()) - make_interval(mins => ? - 1),
                       date_trunc('minute', now()), interval '1 minute') AS m(minute)
  LEFT JOIN jobs j ON j.finished_at >= m.minute AND j.finished_at < m.minute + interval '1 minute'
 GROUP BY m.minute
 ORDER BY m.minute
