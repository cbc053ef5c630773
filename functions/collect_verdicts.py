"""CollectVerdicts: reviewers' verdicts become labels the next ``update`` training uses."""

from __future__ import annotations

from typing import Any

from fraudpipe.handler import parse_event, state_logger
from fraudpipe.review.factory import get_label_store, get_reviewer
from fraudpipe.review.service import collect_verdicts


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("CollectVerdicts", state)
    result = collect_verdicts(state.execution_name, get_reviewer(), get_label_store())
    logger.info("verdicts collected", extra={k: result[k] for k in ("answered", "unanswered")})
    return result
