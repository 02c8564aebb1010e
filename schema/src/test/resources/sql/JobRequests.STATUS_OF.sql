SELECT status, review_gate, CASE WHEN j.review_gate = 'plan' THEN j.storyboard_revision ELSE j.gate_round END AS revision, storyboard_revision FROM jobs j WHERE id = ?
