"""DeployDetectorVersion: a new ACTIVE detector version with the model version and rules."""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.steps import deploy_detector_version
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("DeployDetectorVersion", state)
    result = deploy_detector_version(state)
    logger.info(
        "detector version deployed",
        extra={k: result.get(k) for k in ("detector_id", "detector_version", "status")},
    )
    return result
