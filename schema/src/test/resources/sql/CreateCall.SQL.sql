SELECT ord, job_id, outcome, status
  FROM gaffer_create_jobs(?::text[], ?::text[], ?::int[], ?::text[]::jsonb[], ?::text[]::jsonb[], ?::int[],
                          ?::text[]::timestamptz[], ?::text[], ?::text[], ?::text[])
