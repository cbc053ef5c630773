"""fraudpipe.data."""
