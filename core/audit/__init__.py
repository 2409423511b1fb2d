"""The append-only, hash-chained audit log of who did what to which resource and patient."""
