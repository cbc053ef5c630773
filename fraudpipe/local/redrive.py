"""Where a redrive starts, read from an execution's persisted history.

Why a separate, pure module: moto does not implement RedriveExecution, so the local runtime
re-runs the definition from a chosen state (a derived definition whose ``StartAt`` is that
state) with the input that state had. Choosing the state is the whole policy, and it is easiest
to reason about (and test) on plain history events:

- the last state entered is where the execution stopped (a state whose task failed uncaught, a
  Wait or poll task interrupted by a kill or a timeout): restart there, with its input;
- if that state is a Fail state reached through a task's Catch, the task is what failed:
  restart at the task, with the input it had (not the Catch's error-decorated data);
- if the Fail state belongs to a poll loop (the async job failed), ``restart_points`` names the
  state that starts the job again (e.g. ``TrainingFailed`` -> ``CreateModelVersion``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fraudpipe.errors import FraudpipeError

__all__ = ["REDRIVABLE", "RedrivePlanError", "plan_redrive", "state_visits"]

REDRIVABLE = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
_RERUNNABLE_TYPES = {"Task", "Parallel", "Map"}


class RedrivePlanError(FraudpipeError):
    """The history does not say where to restart (e.g. a state missing from the definition)."""


def state_visits(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """(state name, state input) for every ``*StateEntered`` event, in order."""
    visits = []
    for event in events:
        if str(event.get("type", "")).endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails") or {}
            raw = details.get("input")
            try:
                value = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError:
                value = raw
            visits.append((details.get("name", ""), value))
    return visits


def _execution_input(events: list[dict[str, Any]]) -> Any:
    for event in events:
        if event.get("type") == "ExecutionStarted":
            raw = (event.get("executionStartedEventDetails") or {}).get("input")
            return json.loads(raw) if isinstance(raw, str) else raw
    return {}


def plan_redrive(
    definition: Mapping[str, Any],
    events: list[dict[str, Any]],
    restart_points: Mapping[str, str] | None = None,
) -> tuple[str, Any]:
    """The state to restart at and the input to give it."""
    states = definition.get("States", {})
    visits = state_visits(events)
    if not visits:
        return str(definition["StartAt"]), _execution_input(events)
    target = visits[-1][0]
    if states.get(target, {}).get("Type") == "Fail":
        if restart_points and target in restart_points:
            target = restart_points[target]
        elif len(visits) >= 2 and states.get(visits[-2][0], {}).get("Type") in _RERUNNABLE_TYPES:
            target = visits[-2][0]
    if target not in states:
        raise RedrivePlanError(f"state {target!r} of the history is not in the definition")
    for name, value in reversed(visits):
        if name == target:
            return target, value
    raise RedrivePlanError(f"state {target!r} never ran in this execution: no input to restart it")
