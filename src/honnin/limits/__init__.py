"""Rate limits on every send and every check."""
