SELECT status, parent_id FROM jobs WHERE id = ?
