"""The local runtime: the pipeline's ASL on moto's Step Functions interpreter, in-process.

Modules: ``runtime`` (start, wait, describe, list, redrive), ``moto_patches`` (every patch of
moto), ``history`` (executions on disk), ``redrive`` (where a redrive restarts), ``summary``
(what a run amounts to), ``scheduler`` (cron schedules), ``rawdata`` (raw CSVs in place),
``cli`` / ``schedule_cli`` / ``render`` (commands and their formatting).

``LocalRuntime`` is exported lazily so that importing this package does not import moto.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocalRuntime"]


def __getattr__(name: str) -> Any:
    if name == "LocalRuntime":
        from fraudpipe.local.runtime import LocalRuntime

        return LocalRuntime
    raise AttributeError(f"module 'fraudpipe.local' has no attribute {name!r}")
