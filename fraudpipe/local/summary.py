"""What a run amounts to, computed from its persisted record and history (pure functions).

Why from the files and not from live objects: ``fraudpipe run``, ``executions show``, the
benchmark and the console all describe executions that may have been run by another process.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

__all__ = ["final_data", "parse_timestamp", "state_runs", "summarize"]


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _json(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


_CLOSING = {
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionRedriven": "FAILED",
}


def state_runs(events: list[dict[str, Any]], execution_status: str = "RUNNING") -> list[dict]:
    """One entry per state visit, in order: ``name``, ``type``, ``status``, ``seconds``, times.

    A visit with no exit event is ``FAILED`` if the execution ended FAILED/TIMED_OUT, ``ABORTED``
    if it was aborted, else still ``RUNNING``; a Fail state's visit is ``FAILED``.
    """
    runs: list[dict[str, Any]] = []
    open_runs: dict[str, dict[str, Any]] = {}
    for event in events:
        kind = str(event.get("type", ""))
        if kind in _CLOSING:
            for run in open_runs.values():
                run["status"] = _CLOSING[kind]
            open_runs.clear()
        elif kind.endswith("StateEntered"):
            name = (event.get("stateEnteredEventDetails") or {}).get("name", "?")
            state_type = kind[: -len("StateEntered")]
            run = {
                "name": name,
                "type": state_type,
                "status": "FAILED" if state_type == "Fail" else "RUNNING",
                "entered": event.get("timestamp"),
                "exited": None,
                "seconds": None,
            }
            runs.append(run)
            if state_type != "Fail":
                open_runs[name] = run
        elif kind.endswith("StateExited"):
            name = (event.get("stateExitedEventDetails") or {}).get("name", "?")
            run = open_runs.pop(name, None)
            if run is not None:
                run["exited"] = event.get("timestamp")
                start, end = parse_timestamp(run["entered"]), parse_timestamp(run["exited"])
                run["seconds"] = round((end - start).total_seconds(), 3) if start and end else None
                run["status"] = "SUCCEEDED"
        elif kind.endswith(("Failed", "TimedOut")):
            for run in open_runs.values():
                run["error"] = next(
                    (v.get("error") for k, v in event.items() if k.endswith("EventDetails")), None
                )
    ended = {"FAILED": "FAILED", "TIMED_OUT": "FAILED", "ABORTED": "ABORTED"}
    for run in open_runs.values():
        if execution_status in ended:
            run["status"] = ended[execution_status]
    return runs


def final_data(record: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The execution's output, or (not succeeded) the state data as far as it got."""
    if isinstance(record.get("output"), dict):
        return record["output"]
    for event in reversed(events):
        for key in ("stateExitedEventDetails", "stateEnteredEventDetails"):
            details = event.get(key)
            if details:
                value = _json(details.get("output" if "Exited" in key else "input"))
                if isinstance(value, dict):
                    return value
    return dict(record.get("input") or {})


def summarize(
    record: dict[str, Any], events: list[dict[str, Any]], review: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The run summary (``fraudpipe run --json`` prints exactly this)."""
    data = final_data(record, events)
    training = data.get("training") if isinstance(data.get("training"), dict) else {}
    batch = data.get("batch") if isinstance(data.get("batch"), dict) else {}
    started = data.get("review") if isinstance(data.get("review"), dict) else {}
    metrics = training.get("metrics") if isinstance(training.get("metrics"), dict) else {}
    review_out: dict[str, Any] = {
        "items": started.get("loops_started", 0) if "loops_started" in started else 0,
        "waiting": bool(started.get("waiting")),
    }
    if review:
        review_out.update(review)
    summary = {
        "execution": record.get("name"),
        "status": record.get("status"),
        "states": [
            {"name": r["name"], "status": r["status"], "seconds": r["seconds"]}
            for r in state_runs(events, record.get("status", "RUNNING"))
        ],
        "model_version": training.get("model_version"),
        "metrics": {k: metrics.get(k) for k in ("auc", "pr_auc")} if metrics else {},
        "outcome_counts": batch.get("outcome_counts") or {},
        "batch_output": batch.get("output"),
        "report": training.get("report"),
        "review": review_out,
        "redrive_count": record.get("redrive_count", 0),
        "error": record.get("error"),
        "cause": record.get("cause"),
    }
    if isinstance(data.get("skipped"), dict):
        summary["skipped"] = data["skipped"]
    return summary
