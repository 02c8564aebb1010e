SELECT id FROM jobs WHERE id = ANY (?) AND status = 'cancelled'
