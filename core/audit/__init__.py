"""The append-only audit log of who did what to which resource and patient: entries signed by their
writer, sealed into an HMAC chain by the sequencer, verified against checkpoints kept elsewhere."""
