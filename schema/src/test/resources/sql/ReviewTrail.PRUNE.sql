DELETE FROM job_reviews
 WHERE id IN (SELECT id FROM job_reviews
               WHERE decided_at < now() - make_interval(secs => ?::double precision)
               ORDER BY decided_at
               LIMIT ?)
