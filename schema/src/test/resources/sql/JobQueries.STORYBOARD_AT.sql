SELECT storyboard::text AS storyboard, replaced_by, replaced_at FROM job_storyboards WHERE job_id = ? AND revision = ?
