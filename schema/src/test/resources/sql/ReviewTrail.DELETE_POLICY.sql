DELETE FROM review_policies WHERE job_type = ? AND gate = ?
