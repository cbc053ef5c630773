"""GetTrainingStatus: poll a training; metrics and report once complete."""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.steps import get_training_status
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("GetTrainingStatus", state)
    result = get_training_status(state)
    logger.info(
        "training status", extra={k: result.get(k) for k in ("model_id", "model_version", "status")}
    )
    return result
