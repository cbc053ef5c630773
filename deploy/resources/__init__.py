"""The template's resources, one module per area; each exposes ``resources(ctx) -> dict``."""
