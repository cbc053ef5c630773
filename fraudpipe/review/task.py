"""What a reviewer sees: the task object of a human loop.

The seed sent the whole event to A2I. fraudpipe sends only what the worker template shows and
what a reviewer needs to judge the transaction — never the card number, the cardholder's name or
street — so neither A2I's output bucket nor the local queue holds them.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["TASK_FIELDS", "task_object"]

#: Fields of the task object, in display order.
TASK_FIELDS = (
    "trans_num",
    "EVENT_TIMESTAMP",
    "amt",
    "category",
    "merchant",
    "city",
    "state",
    "zip",
    "city_pop",
    "job",
    "gender",
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def task_object(event: dict[str, Any]) -> dict[str, Any]:
    """The reviewer-facing fields of ``event`` (a batch row or a realtime request)."""
    out = {name: _clean(event.get(name)) for name in TASK_FIELDS if name in event}
    if "EVENT_TIMESTAMP" not in out and "event_timestamp" in event:
        out["EVENT_TIMESTAMP"] = event["event_timestamp"]
    return out
