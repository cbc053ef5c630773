"""A2I human-loop status change (EventBridge) → store the label → resume the waiting execution."""

from __future__ import annotations

from typing import Any

from fraudpipe.logs import get_logger
from fraudpipe.review.a2i_events import handle_status_change
from fraudpipe.review.factory import a2i_clients

logger = get_logger("ResumeReview")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    reviewer, labels, sfn = a2i_clients()
    result = handle_status_change(event, reviewer, labels, sfn)
    logger.info("human loop status change", extra={"resumed": result["resumed"]})
    return result
