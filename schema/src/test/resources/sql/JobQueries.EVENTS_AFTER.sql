SELECT * FROM (
    (SELECT id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
            created_at, attempt_started_at
       FROM job_events WHERE id > ? ORDER BY id LIMIT ?)
    UNION ALL
    (SELECT finished_event_id, id, 'completed'::job_event_kind, status, attempt, completed_by, NULL::text,
            progress_percentage, current_stage, NULL::text, finished_at, claimed_at
       FROM jobs WHERE status = 'completed' AND finished_event_id > ? ORDER BY finished_event_id LIMIT ?)) h
 ORDER BY id LIMIT ?
