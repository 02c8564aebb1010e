SELECT status, storyboard_revision FROM jobs WHERE id = ?
