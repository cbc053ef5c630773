"""What every task handler shares: parsing the state's event and a logger bound to the execution.

Every Lambda task of the pipeline is invoked with ``{"execution_name", "input"[, "task_token"]}``
(see docs/contracts.md), so a handler reads its typed inputs from ``StateEvent.input``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from fraudpipe.logs import get_logger

__all__ = ["StateEvent", "parse_event", "state_logger"]


@dataclass(frozen=True)
class StateEvent:
    """The parsed payload of a task state."""

    execution_name: str
    input: dict[str, Any] = field(default_factory=dict)
    task_token: str | None = None

    def section(self, key: str) -> dict[str, Any]:
        """A previous state's result (e.g. ``"etl"``), or ``{}`` if that state has not run."""
        value = self.input.get(key)
        return value if isinstance(value, dict) else {}


def parse_event(event: dict[str, Any]) -> StateEvent:
    """Parse a state payload; a bare execution input (no ``input`` key) is accepted too."""
    if not isinstance(event, dict):
        raise TypeError(f"a task event must be a JSON object, not {type(event).__name__}")
    if "input" in event and isinstance(event["input"], dict):
        return StateEvent(
            execution_name=str(event.get("execution_name") or "unnamed"),
            input=event["input"],
            task_token=event.get("task_token"),
        )
    return StateEvent(execution_name="unnamed", input=event)


def state_logger(state: str, event: StateEvent) -> Logger:
    """A logger for ``state`` whose every line carries the execution name."""
    logger = get_logger(state)
    logger.thread_safe_append_keys(execution_name=event.execution_name)
    return logger
