WITH args AS (SELECT ?::text[] AS types, ?::text AS worker, ?::double precision AS lease_seconds),
exhausted AS (
    UPDATE job_previews p
       SET status = 'failed', finished_at = now(), locked_by = NULL, lease_expires_at = NULL,
           error = 'the worker running the preview stopped answering (attempt ' || p.attempt || ')'
     WHERE p.status = 'running' AND p.lease_expires_at < now() AND p.attempt >= 3
    RETURNING p.job_id),
obsolete AS (
    UPDATE job_previews p
       SET status = 'failed', error = 'not needed: the job was decided or revised first', finished_at = now(),
           locked_by = NULL, lease_expires_at = NULL
      FROM jobs j
     WHERE j.id = p.job_id
       AND (p.status = 'queued' OR (p.status = 'running' AND p.lease_expires_at < now() AND p.attempt < 3))
       AND (j.status <> 'pending' OR j.review_gate <> 'plan' OR j.storyboard_revision <> p.revision)
    RETURNING p.job_id),
next AS (
    SELECT p.job_id, p.revision FROM job_previews p JOIN jobs j ON j.id = p.job_id, args
     WHERE (p.status = 'queued' OR (p.status = 'running' AND p.lease_expires_at < now() AND p.attempt < 3))
       AND j.status = 'pending' AND j.review_gate = 'plan' AND j.storyboard_revision = p.revision
       AND j.type = ANY (args.types)
     ORDER BY p.requested_at
     LIMIT 1
       FOR UPDATE OF p SKIP LOCKED)
UPDATE job_previews p
   SET status = 'running', attempt = p.attempt + 1, locked_by = args.worker,
       lease_expires_at = now() + make_interval(secs => args.lease_seconds), started_at = now()
  FROM next, args
 WHERE p.job_id = next.job_id AND p.revision = next.revision
RETURNING p.job_id, p.revision, p.attempt,
          (SELECT count(*) FROM exhausted) AS exhausted, (SELECT count(*) FROM obsolete) AS obsolete
