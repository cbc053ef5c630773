"""fraudpipe.engine."""
