"""fraudpipe.api."""
