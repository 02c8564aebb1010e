SELECT greatest((SELECT max(id) FROM job_events), (SELECT max(finished_event_id) FROM jobs), 0) AS id
