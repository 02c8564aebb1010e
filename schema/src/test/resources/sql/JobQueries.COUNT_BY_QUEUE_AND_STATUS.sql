SELECT queue, status::text AS status, count(*) AS n
  FROM jobs
 GROUP BY queue, status
 ORDER BY queue, status
