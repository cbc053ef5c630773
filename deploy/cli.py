"""AWS commands (template, deploy, teardown), added to the main app by :func:`register`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the AWS commands to ``app``."""
