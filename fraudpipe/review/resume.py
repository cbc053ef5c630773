"""Resuming waiting executions locally, from whichever process answered the last loop.

The local runtime runs the state machine (inside moto) in the process of ``fraudpipe run`` or
``fraudpipe serve``; a verdict may come from another process (``fraudpipe review decide``, the
review page of a separate ``serve``). So verdicts only go to the queue, and the process that runs
the state machine polls: :func:`pending_resumptions` lists the executions whose loops are all
answered; the runtime calls SendTaskSuccess with each one's token and output and then
:func:`mark_resumed`. :func:`resume_ready` does both with a ``send_task_success`` callable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fraudpipe.review.queue import RESUMED, ReviewQueue
from fraudpipe.workspace import Workspace, read_json

__all__ = [
    "DEFAULT_URL",
    "Resumption",
    "mark_resumed",
    "pending_resumptions",
    "resume_ready",
    "review_summary",
    "review_url",
]

DEFAULT_URL = "http://127.0.0.1:8000"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resumption:
    """An execution ready to resume: call SendTaskSuccess(task_token, json.dumps(output))."""

    execution_name: str
    task_token: str
    output: dict[str, Any]


def pending_resumptions(ws: Workspace) -> list[Resumption]:
    """Waiting executions (before their deadline) whose loops are all answered."""
    queue = ReviewQueue(ws.review_db)
    if not ws.review_db.exists():
        return []
    ready = []
    for wait in queue.ready_waits():
        items = queue.items(execution_name=wait.execution_name)
        output = {
            "answered": sum(1 for i in items if i.answered),
            "unanswered": sum(1 for i in items if not i.answered),
            "loop_names": [i.loop_name for i in items],
        }
        ready.append(Resumption(wait.execution_name, wait.task_token, output))
    return ready


def mark_resumed(ws: Workspace, execution_name: str) -> bool:
    """Record that the execution was resumed; False if it was no longer waiting."""
    return ReviewQueue(ws.review_db).close_wait(execution_name, RESUMED)


def resume_ready(ws: Workspace, send_task_success: Callable[..., Any]) -> list[str]:
    """Resume every ready execution with ``send_task_success(taskToken=..., output=...)``.

    A token Step Functions refuses (the wait already timed out) closes the wait all the same.
    Returns the names of the executions handled.
    """
    done = []
    for resumption in pending_resumptions(ws):
        try:
            send_task_success(
                taskToken=resumption.task_token, output=json.dumps(resumption.output)
            )
        except Exception as exc:  # a stale token must not block the others
            log.warning("could not resume %s: %s", resumption.execution_name, exc)
        mark_resumed(ws, resumption.execution_name)
        done.append(resumption.execution_name)
    return done


def review_url(ws: Workspace) -> str:
    """The review page of the ``fraudpipe serve`` of this workspace (last one started)."""
    server = (read_json(ws.config_file, {}) or {}).get("server") or {}
    return f"{server.get('url') or DEFAULT_URL}/review"


def review_summary(ws: Workspace, execution_name: str | None = None) -> dict[str, Any]:
    """Counts for ``fraudpipe run``'s summary: ``{"pending", "answered", "url"}``."""
    queue = ReviewQueue(ws.review_db)
    if execution_name is None:
        counts = queue.counts() if ws.review_db.exists() else {"pending": 0, "answered": 0}
    else:
        items = queue.items(execution_name=execution_name) if ws.review_db.exists() else []
        counts = {
            "pending": sum(1 for i in items if not i.answered),
            "answered": sum(1 for i in items if i.answered),
        }
    return {**counts, "url": review_url(ws)}
