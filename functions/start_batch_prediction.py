"""StartBatchPrediction: score the ETL's batch file with the deployed detector version."""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.steps import start_batch_prediction
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("StartBatchPrediction", state)
    result = start_batch_prediction(state)
    logger.info("batch prediction started", extra={k: result.get(k) for k in ("job_id", "status")})
    return result
