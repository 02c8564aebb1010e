WITH held AS (
    SELECT id, storyboard_revision FROM jobs
     WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'),
args AS (SELECT ?::text AS name, ?::int AS keep),
newest AS (
    SELECT a.revision, a.storyboard_revision FROM job_artifacts a, held, args
     WHERE a.job_id = held.id AND a.name = args.name
     ORDER BY a.revision DESC LIMIT 1),
stored AS (
    INSERT INTO job_artifacts (job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, data)
    SELECT held.id, args.name,
           CASE WHEN n.storyboard_revision = held.storyboard_revision THEN n.revision
                ELSE COALESCE(n.revision, 0) + 1 END,
           held.storyboard_revision, ?, ?, ?, ?
      FROM held CROSS JOIN args LEFT JOIN newest n ON true
    ON CONFLICT (job_id, name, revision) DO UPDATE
       SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
           sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
    RETURNING job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, created_at),
pruned AS (
    DELETE FROM job_artifacts d USING stored s, args
     WHERE args.keep IS NOT NULL AND d.job_id = s.job_id AND d.name = s.name
       AND d.revision <= s.revision - args.keep
    RETURNING d.revision)
SELECT job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, created_at, (SELECT count(*) FROM pruned) AS pruned FROM stored
