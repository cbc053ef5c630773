"""EventBridge "SageMaker A2I HumanLoop Status Change" → labels and, when due, SendTaskSuccess.

For a loop fraudpipe started: a Completed loop's verdict is stored as a label at once; then, if
its execution waits with a task token and every loop of that execution is finished (Completed,
Failed or Stopped), the execution is resumed with ``{answered, unanswered, loop_names}``. A token
Step Functions refuses (the wait timed out) closes the wait. Delivery is at least once, so a
repeated event is harmless.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from fraudpipe.review.a2i import A2IReviewer
from fraudpipe.review.labels import Label, LabelStore
from fraudpipe.review.loops import verdict_label
from fraudpipe.review.queue import utc_now
from fraudpipe.review.service import REALTIME_EXECUTION

__all__ = ["DETAIL_TYPE", "handle_status_change"]

DETAIL_TYPE = "SageMaker A2I HumanLoop Status Change"
STALE_TOKEN_CODES = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


def handle_status_change(
    event: dict[str, Any], reviewer: A2IReviewer, labels: LabelStore, sfn_client: Any
) -> dict[str, Any]:
    detail = event.get("detail") or {}
    loop_name = detail.get("humanLoopName")
    status = detail.get("humanLoopStatus")
    out: dict[str, Any] = {"loop_name": loop_name, "status": status, "resumed": False}
    index = reviewer.loop_index(loop_name) if loop_name else None
    if index is None:
        out["ignored"] = "not a fraudpipe loop"
        return out
    execution = index["execution_name"]
    out["execution_name"] = execution
    if status == "Completed":
        result = reviewer.result(loop_name, index["event_id"], index["score"])
        label = verdict_label(result.verdict) if result.verdict else None
        if label:
            labels.upsert([Label(index["event_id"], label, result.answered_at or utc_now())])
        out["verdict"] = result.verdict
    if execution == REALTIME_EXECUTION:
        return out
    manifest = reviewer.manifest(execution)
    token = manifest.get("task_token")
    if manifest.get("status") != "WAITING" or not token:
        return out
    results = reviewer.results(execution)
    if not all(r.finished for r in results):
        out["waiting_for"] = sum(1 for r in results if not r.finished)
        return out
    output = {
        "answered": sum(1 for r in results if r.answered),
        "unanswered": sum(1 for r in results if not r.answered),
        "loop_names": [r.loop_name for r in results],
    }
    try:
        sfn_client.send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in STALE_TOKEN_CODES:
            raise
        reviewer.end_wait(execution, "CLOSED")
        out["stale_token"] = True
        return out
    reviewer.end_wait(execution, "RESUMED")
    out.update(resumed=True, **output)
    return out
