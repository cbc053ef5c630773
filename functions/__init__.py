"""Task handlers: one module per state of the pipeline."""
