"""fraudpipe.review."""
