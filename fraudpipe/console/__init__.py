"""Console (local web UI)."""
