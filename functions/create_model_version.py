"""CreateModelVersion: start training a model version (create: next major, update: next minor)."""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.steps import create_model_version
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("CreateModelVersion", state)
    result = create_model_version(state)
    logger.info(
        "training started",
        extra={k: result.get(k) for k in ("model_id", "model_version", "status")},
    )
    return result
