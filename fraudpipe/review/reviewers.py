"""The review port and its local adapter.

A :class:`Reviewer` starts human loops, records that an execution waits for them (with a task
token), and reports each loop's verdict. Two adapters: :class:`LocalReviewer` (the SQLite queue
in the workspace, answered through ``fraudpipe serve`` pages or ``fraudpipe review decide``) and
:class:`fraudpipe.review.a2i.A2IReviewer` (Amazon A2I on AWS). Handlers choose by configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fraudpipe.review.queue import CLOSED, ReviewQueue
from fraudpipe.workspace import Workspace

__all__ = ["LocalReviewer", "LoopRequest", "LoopResult", "Reviewer"]


@dataclass(frozen=True)
class LoopRequest:
    """One event to send to a human."""

    loop_name: str
    execution_name: str
    event_id: str
    score: float
    task_object: dict[str, Any]


@dataclass(frozen=True)
class LoopResult:
    """Where one loop stands: ``verdict`` is None until a human answered."""

    loop_name: str
    event_id: str
    score: float
    verdict: str | None
    answered_at: str | None = None
    done: bool | None = None

    @property
    def answered(self) -> bool:
        return self.verdict is not None

    @property
    def finished(self) -> bool:
        """No human will answer any more (answered, or the loop failed / was stopped)."""
        return self.answered if self.done is None else self.done


class Reviewer(Protocol):
    """Human review, locally or on AWS."""

    def start_loops(self, execution_name: str, requests: list[LoopRequest]) -> list[str]:
        """Start one loop per request; returns the names of the loops (existing ones too)."""
        ...

    def begin_wait(self, execution_name: str, task_token: str, timeout_seconds: float) -> None:
        """Remember that ``execution_name`` waits with ``task_token`` for its loops."""
        ...

    def results(self, execution_name: str) -> list[LoopResult]:
        """Every loop of ``execution_name`` with its verdict so far."""
        ...

    def end_wait(self, execution_name: str) -> None:
        """The execution no longer waits (resumed or timed out): never resume it again."""
        ...

    def queue_url(self) -> str | None:
        """Where a human answers the loops."""
        ...


class LocalReviewer:
    """Review through the workspace's SQLite queue."""

    def __init__(self, ws: Workspace, base_url: str | None = None) -> None:
        self.ws = ws
        self.queue = ReviewQueue(ws.review_db)
        self.base_url = base_url

    def start_loops(self, execution_name: str, requests: list[LoopRequest]) -> list[str]:
        for req in requests:
            self.queue.add(req.loop_name, execution_name, req.event_id, req.score, req.task_object)
        return [req.loop_name for req in requests]

    def begin_wait(self, execution_name: str, task_token: str, timeout_seconds: float) -> None:
        self.queue.add_wait(execution_name, task_token, timeout_seconds)

    def results(self, execution_name: str) -> list[LoopResult]:
        return [
            LoopResult(i.loop_name, i.event_id, i.score, i.verdict, i.answered_at)
            for i in self.queue.items(execution_name=execution_name)
        ]

    def end_wait(self, execution_name: str) -> None:
        self.queue.close_wait(execution_name, CLOSED)

    def queue_url(self) -> str | None:
        from fraudpipe.review.resume import review_url

        return self.base_url or review_url(self.ws)
