"""fraudpipe.local."""
