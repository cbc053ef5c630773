"""Runtime configuration read from the environment, in one place.

Handlers choose adapters by configuration (``FRAUDPIPE_BACKEND``), never by "am I in a test".

- ``FRAUDPIPE_BACKEND``: ``local`` (workspace + local adapters, default) or ``aws`` (boto3).
- ``FRAUDPIPE_HOME``: the local workspace folder (default ``.fraudpipe``).
- ``FRAUDPIPE_TIME_SCALE``: factor (0..1) the local runtime applies to Wait states and retry
  intervals, e.g. ``0.01`` in tests; a real run leaves it at the default 1.
- ``FRAUDPIPE_JOB_MODE``: ``process`` (default) or ``thread`` for local async jobs.
- ``FRAUDPIPE_BUCKET``: the artefact bucket on AWS (set by the stack).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Settings", "settings"]


@dataclass(frozen=True)
class Settings:
    backend: str
    time_scale: float
    bucket: str | None

    @property
    def is_aws(self) -> bool:
        return self.backend == "aws"


def settings() -> Settings:
    """Read the settings now (cheap; not cached so tests can change the environment)."""
    backend = os.environ.get("FRAUDPIPE_BACKEND", "local").lower()
    if backend not in ("local", "aws"):
        raise ValueError(f"FRAUDPIPE_BACKEND must be 'local' or 'aws', not {backend!r}")
    raw_scale = os.environ.get("FRAUDPIPE_TIME_SCALE", "1")
    try:
        scale = float(raw_scale)
    except ValueError as exc:
        raise ValueError(f"FRAUDPIPE_TIME_SCALE must be a number, not {raw_scale!r}") from exc
    if not 0 <= scale <= 1:
        raise ValueError(f"FRAUDPIPE_TIME_SCALE must be between 0 and 1, not {scale}")
    return Settings(backend=backend, time_scale=scale, bucket=os.environ.get("FRAUDPIPE_BUCKET"))
