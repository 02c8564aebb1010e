WITH span AS (SELECT date_trunc('minute', now()) - make_interval(mins => ? - 1) AS since),
after AS (
    SELECT COALESCE((SELECT j.finished_event_id FROM jobs j
                      WHERE j.finished_event_id IS NOT NULL
                        AND j.finished_at < (SELECT since FROM span) - interval '1 minute'
                      ORDER BY j.finished_event_id DESC
                      LIMIT 1), 0) AS id),
recent AS (
    SELECT j.id, j.status, j.finished_at FROM jobs j
     WHERE j.finished_event_id > (SELECT id FROM after) AND j.finished_at >= (SELECT since FROM span))
SELECT m.minute,
       count(j.id) FILTER (WHERE j.status = 'completed') AS completed,
       count(j.id) FILTER (WHERE j.status = 'failed')    AS failed,
       count(j.id) FILTER (WHERE j.status = 'cancelled') AS cancelled
  FROM span, generate_series(span.since, date_trunc('minute', now()), interval '1 minute') AS m(minute)
  LEFT JOIN recent j ON j.finished_at >= m.minute AND j.finished_at < m.minute + interval '1 minute'
 GROUP BY m.minute
 ORDER BY m.minute
