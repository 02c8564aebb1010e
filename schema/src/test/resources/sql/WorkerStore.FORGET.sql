DELETE FROM workers WHERE id = ANY (?)
