"""Small handlers for the compact test state machines of the runtime tests.

They record their calls in the workspace (``FRAUDPIPE_HOME``) so tests can count attempts
across retries, threads and processes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from fraudpipe.errors import QualityGateError, TransientError


def _calls_file() -> Path:
    return Path(os.environ["FRAUDPIPE_HOME"]) / "calls.jsonl"


def _record(name: str, event: dict[str, Any]) -> int:
    path = _calls_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps({"handler": name, "execution": event.get("execution_name")}) + "\n")
    return calls(name, event.get("execution_name"))


def calls(name: str, execution: str | None = None) -> int:
    path = _calls_file()
    if not path.exists():
        return 0
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    return sum(1 for r in rows if r["handler"] == name and execution in (None, r["execution"]))


def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Succeeds; returns the number of times it ran for this execution."""
    return {"ok": True, "calls": _record("ok", event)}


def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails with TransientError on its first two calls per execution, then succeeds."""
    n = _record("flaky", event)
    if n <= 2:
        raise TransientError(f"transient failure number {n}")
    return {"ok": True, "attempts": n}


def gate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises QualityGateError unless the input says pass=true."""
    _record("gate", event)
    if not event.get("input", {}).get("pass"):
        raise QualityGateError("AUC 0.61 is below min_auc 0.9")
    return {"passed": True}


def fail_once_then_ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises ValueError on its first call per execution (not retried), then succeeds."""
    n = _record("fail_once", event)
    if n == 1:
        raise ValueError("boom on the first call")
    return {"ok": True, "attempts": n}


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps ``input.sleep`` seconds (for kill tests)."""
    _record("slow", event)
    time.sleep(float(event.get("input", {}).get("sleep", 0)))
    return {"slept": True}
