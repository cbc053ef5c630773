"""Turn a Step Functions execution history into per-state visits and statuses.

Why a fold over events rather than reading ``execution.json``: the graph colours each state by
what *its* events say (entered, retried, failed, caught), exactly as the Step Functions console
does, so the same code reads a local history and one copied from AWS.

A *visit* is one ``<Type>StateEntered`` .. ``<Type>StateExited`` span. Its status is

- ``running``   entered, not exited, execution still running;
- ``succeeded`` exited after its last attempt succeeded;
- ``caught``    exited after its last attempt failed (the error went to a ``Catch``);
- ``failed``    a Fail state (its error and cause are the execution's), or still open when
  the execution failed / was aborted.

A state's status is the status of its latest visit (loops visit a state many times);
``notstarted`` when it has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "STATUSES",
    "ExecutionTrace",
    "Visit",
    "event_details",
    "event_failure",
    "parse_time",
    "trace_events",
]

STATUSES = ("notstarted", "running", "succeeded", "failed", "caught")

_ATTEMPT_SUFFIXES = ("Scheduled",)
_FAILURE_SUFFIXES = ("Failed", "TimedOut", "ScheduleFailed", "StartFailed", "SubmitFailed")
_TERMINAL_EXECUTION = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


def parse_time(value: Any) -> datetime | None:
    """An event or execution timestamp (ISO 8601 string or epoch seconds) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, int | float):
        found = datetime.fromtimestamp(float(value), tz=UTC)
    else:
        try:
            found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def event_details(event: dict[str, Any]) -> dict[str, Any]:
    """The ``...EventDetails`` dict of an event (each event carries at most one)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def event_failure(event: dict[str, Any]) -> tuple[str, str] | None:
    """``(error, cause)`` when the event reports a failure, else ``None``."""
    kind = str(event.get("type", ""))
    if not kind.endswith(_FAILURE_SUFFIXES) and kind not in _TERMINAL_EXECUTION:
        return None
    details = event_details(event)
    if "error" not in details and "cause" not in details:
        return None if kind == "ExecutionSucceeded" else ("", "")
    return str(details.get("error") or ""), str(details.get("cause") or "")


@dataclass
class Visit:
    """One entry into a state, with what happened until it was left."""

    state: str
    state_type: str
    entered_event: int
    entered_at: datetime | None
    input: str | None = None
    output: str | None = None
    exited_at: datetime | None = None
    attempts: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    status: str = "running"
    last_attempt_failed: bool = False

    @property
    def retries(self) -> int:
        """Attempts beyond the first (Retry policy at work)."""
        return max(0, self.attempts - 1)

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds spent in the state; up to ``now`` while still running."""
        end = self.exited_at or (now if self.status == "running" else None)
        if self.entered_at is None or end is None:
            return None
        return max(0.0, (end - self.entered_at).total_seconds())


@dataclass
class ExecutionTrace:
    """Every visit of an execution, in order, plus what the events say about the execution."""

    visits: list[Visit]
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    last_event_id: int
    redrives: int

    def state_status(self) -> dict[str, str]:
        """Status of each visited state (latest visit wins)."""
        return {visit.state: visit.status for visit in self.visits}

    def visit_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for visit in self.visits:
            counts[visit.state] = counts.get(visit.state, 0) + 1
        return counts

    def visits_of(self, state: str) -> list[Visit]:
        return [visit for visit in self.visits if visit.state == state]


def _state_type(event_type: str, suffix: str) -> str:
    return event_type[: -len(suffix)] if event_type.endswith(suffix) else event_type


def trace_events(events: Iterable[dict[str, Any]]) -> ExecutionTrace:
    """Fold history events (oldest first) into visits; see the module docstring for statuses."""
    visits: list[Visit] = []
    open_visits: list[Visit] = []
    status = "RUNNING"
    started_at = stopped_at = None
    last_id = 0
    redrives = 0
    for event in events:
        kind = str(event.get("type", ""))
        at = parse_time(event.get("timestamp"))
        last_id = max(last_id, int(event.get("id") or 0))
        details = event_details(event)
        if kind == "ExecutionStarted":
            started_at = started_at or at
        elif kind == "ExecutionRedriven":
            redrives += 1
            status, stopped_at = "RUNNING", None
        elif kind.endswith("StateEntered"):
            visit = Visit(
                state=str(details.get("name", "?")),
                state_type=_state_type(kind, "StateEntered"),
                entered_event=int(event.get("id") or 0),
                entered_at=at,
                input=details.get("input"),
            )
            if visit.state_type == "Fail":
                visit.status, visit.exited_at = "failed", at
            else:
                open_visits.append(visit)
            visits.append(visit)
        elif kind.endswith("StateExited"):
            visit = _pop_open(open_visits, str(details.get("name", "")))
            if visit is not None:
                visit.exited_at, visit.output = at, details.get("output")
                visit.status = "caught" if visit.last_attempt_failed else "succeeded"
        elif kind in _TERMINAL_EXECUTION:
            status, stopped_at = _TERMINAL_EXECUTION[kind], at
            ending = visits[-1] if visits and visits[-1].state_type == "Fail" else None
            for visit in [*open_visits, *([ending] if ending else [])]:
                visit.status = "succeeded" if status == "SUCCEEDED" else "failed"
                visit.exited_at = visit.exited_at or at
                failure = event_failure(event)
                if failure and failure != ("", "") and not visit.errors:
                    visit.errors.append(failure)
            open_visits.clear()
        elif open_visits:
            _apply_task_event(open_visits[-1], kind, event)
    return ExecutionTrace(visits, status, started_at, stopped_at, last_id, redrives)


def _pop_open(open_visits: list[Visit], name: str) -> Visit | None:
    for index in range(len(open_visits) - 1, -1, -1):
        if open_visits[index].state == name:
            return open_visits.pop(index)
    return open_visits.pop() if open_visits and not name else None


def _apply_task_event(visit: Visit, kind: str, event: dict[str, Any]) -> None:
    """Attempts, failures and successes of the task inside an open visit."""
    if kind.endswith(_ATTEMPT_SUFFIXES) and not kind.endswith("ScheduleFailed"):
        visit.attempts += 1
        visit.last_attempt_failed = False
    failure = event_failure(event)
    if failure is not None:
        visit.errors.append(failure)
        visit.last_attempt_failed = True
    elif kind.endswith("Succeeded"):
        visit.last_attempt_failed = False
