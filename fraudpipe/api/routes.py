"""HTTP routes of this area; :func:`include` adds them to the app built by ``fraudpipe.server``."""

from __future__ import annotations

from fastapi import FastAPI


def include(app: FastAPI) -> None:
    """Add this area's routes to ``app`` (read the workspace from ``app.state.workspace``)."""
