"""Build the realtime predictor from configuration (engine, detector, review band, reviewer).

``config.json`` of the workspace may hold ``engine`` (``builtin``/``afd``), ``detector_id`` and
``review`` (``{"min", "max"}``); the environment's ``FRAUDPIPE_ENGINE`` / ``FRAUDPIPE_DETECTOR_ID``
win (that is how the AWS Lambda is configured).
"""

from __future__ import annotations

import os
from typing import Any

from fraudpipe.api.errors import NotReadyError
from fraudpipe.api.schema import PredictRequest
from fraudpipe.api.service import DEFAULT_DETECTOR, Predictor
from fraudpipe.review.factory import get_reviewer
from fraudpipe.review.settings import ReviewSettings
from fraudpipe.workspace import Workspace, get_workspace, read_json

__all__ = ["build_predictor"]


def build_predictor(ws: Workspace | None = None, engine: Any = None) -> Predictor:
    """A predictor for ``ws``; ``engine`` overrides the configured one."""
    ws = ws or get_workspace()
    config = read_json(ws.config_file, {}) or {}
    if engine is None:
        name = os.environ.get("FRAUDPIPE_ENGINE") or config.get("engine") or "builtin"
        try:
            from fraudpipe.engine import get_engine
        except ImportError as exc:  # the engine is part of the distribution; be explicit
            raise NotReadyError(f"the fraud engine cannot be loaded: {exc}") from exc
        engine = get_engine(name, workspace=ws)
    detector = (
        os.environ.get("FRAUDPIPE_DETECTOR_ID") or config.get("detector_id") or DEFAULT_DETECTOR
    )
    band = config.get("review") or {}
    review = ReviewSettings.from_input({"review": band})

    def reviewer(request: PredictRequest) -> Any:
        flow = request.flow_definition
        arn = flow if flow and flow.lower() != "ignore" else None
        return get_reviewer(ws, flow_definition_arn=arn)

    return Predictor(engine, detector_id=detector, reviewer=reviewer, review=review)
