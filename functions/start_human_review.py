"""StartHumanReview / StartHumanReviewAndWait: one human loop per batch event in the review band.

With ``task_token`` (the callback state) the execution waits until every loop is answered or the
state's timeout passes; locally the runtime resumes it from the review queue, on AWS
``resume_review`` does on A2I's status-change events.
"""

from __future__ import annotations

from typing import Any

from fraudpipe.handler import parse_event, state_logger
from fraudpipe.review.factory import get_reviewer, output_opener, task_success_sender
from fraudpipe.review.service import start_human_review


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("StartHumanReview", state)
    result = start_human_review(
        state.execution_name,
        state.input,
        get_reviewer(),
        output_opener(),
        task_token=state.task_token,
        send_now=task_success_sender(),
    )
    logger.info("human loops started", extra={"loops": result["loops_started"]})
    return result
