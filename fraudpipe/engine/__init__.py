"""The fraud engine: Amazon Fraud Detector's semantics, built in or on AFD itself.

``get_engine("builtin" | "afd", workspace=None, client=None)`` returns an engine whose methods
are AFD's operations in snake_case returning boto3-shaped dicts (docs/contracts.md):
``put_model``, ``create_model_version``, ``update_model_version``, ``get_model_version``,
``update_model_version_status``, ``create_detector_version``, ``update_detector_version_status``,
``get_active_detector_version``, ``create_batch_prediction_job``, ``get_batch_prediction_jobs``,
``get_event_prediction``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fraudpipe.engine.builtin import SIMULTANEOUS_TRAINING_MESSAGE, BuiltinEngine
    from fraudpipe.workspace import Workspace

__all__ = ["ENGINES", "SIMULTANEOUS_TRAINING_MESSAGE", "BuiltinEngine", "get_engine"]

ENGINES = ("builtin", "afd")


def get_engine(name: str = "builtin", workspace: Workspace | None = None,
               client: Any = None) -> Any:
    """The engine called ``name``; ``client`` is a boto3 ``frauddetector`` client for ``afd``
    (built from the environment when not given)."""
    if name == "builtin":
        from fraudpipe.engine.builtin import BuiltinEngine

        return BuiltinEngine(workspace)
    if name == "afd":
        from fraudpipe.engine.afd import AfdEngine

        return AfdEngine(client)
    raise ValueError(f"engine must be one of {ENGINES}, not {name!r}")


def __getattr__(name: str) -> Any:
    """Load the built-in engine (LightGBM, pandas) only when it is used: importing the package,
    as every ``fraudpipe`` command does through its CLI modules, stays fast."""
    if name in ("BuiltinEngine", "SIMULTANEOUS_TRAINING_MESSAGE"):
        from fraudpipe.engine import builtin

        return getattr(builtin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
