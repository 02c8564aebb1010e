INSERT INTO review_policies AS p (job_type, gate, required_role, four_eyes, expires_after, quorum, updated_by,
                                  on_expiry)
VALUES (?, ?, ?::api_key_role, ?, make_interval(secs => ?::double precision), ?, ?, ?)
ON CONFLICT (job_type, gate) DO UPDATE
   SET required_role = excluded.required_role, four_eyes = excluded.four_eyes,
       expires_after = excluded.expires_after, quorum = excluded.quorum, updated_by = excluded.updated_by,
       on_expiry = excluded.on_expiry,
       updated_at = now()
RETURNING job_type, gate, required_role::text AS required_role, four_eyes, extract(epoch FROM expires_after)::bigint AS expires_after_s, quorum, updated_by, updated_at, on_expiry
