"""The review use cases behind the handlers, the API and the CLI.

- :func:`start_human_review` (StartHumanReview / StartHumanReviewAndWait): one loop per batch
  event in the band, highest scores first, at most ``review.max_items``; with a task token the
  execution is recorded as waiting.
- :func:`collect_verdicts` (CollectVerdicts): verdicts become labels; what is unanswered is
  reported, and the execution stops waiting.
- :func:`request_realtime_review`: a realtime score in the band, when the caller asked for review.
- :func:`decide`: a local verdict (page or CLI), stored as a label at once so that an answer
  given after the execution moved on still reaches the next training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from fraudpipe.errors import ReviewError
from fraudpipe.review.candidates import select_candidates
from fraudpipe.review.labels import Label, LabelStore
from fraudpipe.review.loops import batch_loop_name, realtime_loop_name, verdict_label
from fraudpipe.review.queue import LoopItem, ReviewQueue, utc_now
from fraudpipe.review.reviewers import LoopRequest, Reviewer
from fraudpipe.review.settings import ReviewSettings
from fraudpipe.workspace import Workspace

__all__ = [
    "REALTIME_EXECUTION",
    "collect_verdicts",
    "decide",
    "request_realtime_review",
    "start_human_review",
]

REALTIME_EXECUTION = "realtime"
UNANSWERED_LISTED = 100


def start_human_review(
    execution_name: str,
    execution_input: dict[str, Any],
    reviewer: Reviewer,
    open_output: Callable[[str], IO[str] | Any],
    task_token: str | None = None,
    send_now: Callable[[str, dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """Start the loops of one execution; ``open_output(uri)`` opens the batch output.

    ``send_now(token, output)`` resumes a waiting execution at once when there is nothing to
    wait for (on AWS; locally the runtime's poller does it).
    """
    settings = ReviewSettings.from_input(execution_input)
    batch = execution_input.get("batch") or {}
    uri = batch.get("output")
    names: list[str] = []
    in_band = 0
    if settings.enabled and not uri:
        raise ReviewError("review is enabled but the input has no batch.output to review")
    if settings.enabled:
        candidates, in_band = select_candidates(open_output(uri), settings, name=str(uri))
        requests = [
            LoopRequest(
                batch_loop_name(execution_name, c.event_id),
                execution_name,
                c.event_id,
                c.score,
                c.task_object,
            )
            for c in candidates
        ]
        names = reviewer.start_loops(execution_name, requests)
    waiting = bool(task_token)
    if task_token:
        reviewer.begin_wait(execution_name, task_token, settings.timeout_seconds)
        if not names and send_now is not None:
            reviewer.end_wait(execution_name)
            send_now(task_token, {"answered": 0, "unanswered": 0, "loop_names": []})
    return {
        "loops_started": len(names),
        "loop_names": names,
        "in_band": in_band,
        "queue_url": reviewer.queue_url(),
        "waiting": waiting,
    }


def collect_verdicts(
    execution_name: str, reviewer: Reviewer, labels: LabelStore
) -> dict[str, Any]:
    """Store labels for every answered loop of the execution; report what is unanswered."""
    results = reviewer.results(execution_name)
    now = utc_now()
    new_labels = []
    for result in results:
        if result.verdict is None:
            continue
        label = verdict_label(result.verdict)
        if label is not None:
            new_labels.append(Label(result.event_id, label, result.answered_at or now))
    stored = labels.upsert(new_labels)
    reviewer.end_wait(execution_name)
    unanswered = [r.loop_name for r in results if not r.answered]
    return {
        "answered": sum(1 for r in results if r.answered),
        "unanswered": len(unanswered),
        "escalated": sum(1 for r in results if r.verdict == "escalate"),
        "labels_stored": stored,
        "unanswered_loops": unanswered[:UNANSWERED_LISTED],
    }


def request_realtime_review(
    reviewer: Reviewer, event_id: str, score: float, task_object: dict[str, Any]
) -> str:
    """Start one loop for a realtime prediction; returns its name."""
    name = realtime_loop_name(event_id)
    reviewer.start_loops(
        REALTIME_EXECUTION,
        [LoopRequest(name, REALTIME_EXECUTION, event_id, score, task_object)],
    )
    return name


def decide(ws: Workspace, loop_name: str, verdict: str) -> LoopItem:
    """Answer a local loop and store its label (fraud / legit; escalate stores none)."""
    item = ReviewQueue(ws.review_db).decide(loop_name, verdict)
    label = verdict_label(verdict)
    if label is not None:
        LabelStore.local(ws).upsert(
            [Label(item.event_id, label, item.answered_at or utc_now())]
        )
    return item
