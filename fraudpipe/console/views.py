"""Jinja templates of the console and the small formatting helpers they use.

Why Jinja and plain HTML: nothing to build, nothing fetched at run time, and pages that work
without JavaScript; the one script (``static/console.js``) only adds live updates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from fraudpipe.console.history import event_details, event_failure, parse_time

__all__ = [
    "env",
    "event_rows",
    "fmt_duration",
    "fmt_time",
    "pretty_json",
    "render",
    "split_cause",
]

MAX_JSON_CHARS = 20_000


def fmt_duration(seconds: float | None) -> str:
    """``850 ms``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_time(value: Any) -> str:
    """A timestamp as ``2026-11-24 16:40:01 UTC``."""
    found = parse_time(value)
    return found.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if found else ""


def pretty_json(value: Any) -> str:
    """Indented JSON of a value or of a JSON string (history data are JSON strings)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value[:MAX_JSON_CHARS]
    text = json.dumps(value, indent=2, sort_keys=False, default=str)
    if len(text) > MAX_JSON_CHARS:
        return text[:MAX_JSON_CHARS] + f"\n… ({len(text) - MAX_JSON_CHARS} more characters)"
    return text


def split_cause(cause: Any) -> tuple[str, str]:
    """``(message, stack trace)`` of a cause; a Lambda cause is JSON with ``errorMessage``."""
    if not cause:
        return "", ""
    text = str(cause)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return text, ""
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        stack = parsed.get("stackTrace") or []
        trace = "".join(stack) if isinstance(stack, list) else str(stack)
        return str(parsed["errorMessage"]), trace
    return pretty_json(parsed), ""


def event_rows(
    events: list[dict[str, Any]], start: datetime | None, after: int = 0, last: int | None = None
) -> list[dict[str, Any]]:
    """Rows of the events table for events with id > ``after`` (only the ``last`` n if given).

    Every event is scanned to know which step it belongs to, but only the shown ones are
    formatted: a long polling history has thousands of events.
    """
    steps: list[str] = []
    step = ""
    for event in events:
        details = event_details(event)
        if "name" in details:
            step = str(details["name"])
        steps.append("" if str(event.get("type", "")).startswith("Execution") else step)
    chosen = [(e, s) for e, s in zip(events, steps, strict=True) if int(e.get("id") or 0) > after]
    if last is not None:
        chosen = chosen[-last:] if last > 0 else []
    return [_row(event, step, start) for event, step in chosen]


def _row(event: dict[str, Any], step: str, start: datetime | None) -> dict[str, Any]:
    details = event_details(event)
    at = parse_time(event.get("timestamp"))
    failure = event_failure(event)
    return {
        "id": event.get("id"),
        "type": str(event.get("type", "")),
        "step": step,
        "elapsed": fmt_duration((at - start).total_seconds()) if at and start else "",
        "time": fmt_time(at),
        "error": failure[0] if failure else "",
        "cause": split_cause(failure[1])[0] if failure else "",
        "failed": failure is not None and failure != ("", ""),
        "details": pretty_json(details) if details else "",
    }


env = Environment(
    loader=PackageLoader("fraudpipe.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(
    duration=fmt_duration, time=fmt_time, pretty=pretty_json, split_cause=split_cause
)


def render(template: str, **context: Any) -> str:
    return env.get_template(template).render(**context)
