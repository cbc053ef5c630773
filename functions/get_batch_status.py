"""GetBatchStatus: poll a batch job; outcome counts and review candidates once complete."""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.steps import get_batch_status
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("GetBatchStatus", state)
    result = get_batch_status(state)
    logger.info(
        "batch status",
        extra={k: result.get(k) for k in ("job_id", "status", "rows", "review_candidates")},
    )
    return result
