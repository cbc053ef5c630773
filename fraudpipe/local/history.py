"""Execution histories on disk: ``executions/<name>/execution.json`` and ``events.jsonl``.

Why files written as things happen: the execution runs inside moto in one process, while the
web console (another process) shows it live, and a SIGKILLed run must leave enough behind to be
redriven. ``events.jsonl`` gets one ``get_execution_history``-shaped event per line, appended
and flushed at once; ``execution.json`` is replaced atomically on each status change.

A RUNNING record whose owning process is gone reads as ABORTED (and is stored so, with an
``ExecutionAborted`` event), like an execution whose worker died on AWS.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import Workspace, atomic_write_json, read_json

__all__ = [
    "TERMINAL_EVENTS",
    "ExecutionStore",
    "now_iso",
    "process_start_ticks",
]

RUNNING = "RUNNING"
TERMINAL_EVENTS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
_DETAILS = {
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks (tells a live owner from a reused pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            return None
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _owner_alive(record: dict[str, Any]) -> bool:
    pid = record.get("owner_pid")
    if not isinstance(pid, int):
        return False
    ticks = process_start_ticks(pid)
    if ticks is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not Path("/proc").is_dir()  # no /proc: trust kill(0)
    expected = record.get("owner_start")
    return expected is None or expected == ticks


class ExecutionStore:
    """Reads and writes the persisted executions of one workspace."""

    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()
    #: executions this process is running right now (their owner is us, and alive)
    active: set[str] = set()

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    # --- paths ---------------------------------------------------------------------------------
    def folder(self, name: str) -> Path:
        return self.workspace.executions_dir / name

    def record_path(self, name: str) -> Path:
        return self.folder(name) / "execution.json"

    def events_path(self, name: str) -> Path:
        return self.folder(name) / "events.jsonl"

    def definition_path(self, name: str) -> Path:
        return self.folder(name) / "definition.asl.json"

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(str(self.folder(name)), threading.Lock())

    # --- writing -------------------------------------------------------------------------------
    def create(self, name: str, record: dict[str, Any], definition: str) -> None:
        folder = self.folder(name)
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "definition.asl.json").write_text(definition, encoding="utf-8")
        self.events_path(name).touch()
        self.write_record(name, record)

    def write_record(self, name: str, record: dict[str, Any]) -> None:
        atomic_write_json(self.record_path(name), record)

    def update(self, name: str, **changes: Any) -> dict[str, Any]:
        with self._lock(name):
            record = self.read_record(name)
            record.update(changes)
            self.write_record(name, record)
            return record

    def append_event(self, name: str, event: dict[str, Any]) -> str | None:
        """Append one event; a terminal event also records (and returns) the final status."""
        with self._lock(name):
            with self.events_path(name).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(event, default=str, separators=(",", ":")) + "\n")
                handle.flush()
            status = TERMINAL_EVENTS.get(event.get("type", ""))
            if status is None:
                return None
            details = event.get(_DETAILS[event["type"]]) or {}
            record = self.read_record(name)
            record.update(status=status, stop_date=event.get("timestamp") or now_iso())
            if status == "SUCCEEDED":
                record["output"] = _maybe_json(details.get("output"))
            else:
                record["error"] = details.get("error")
                record["cause"] = details.get("cause")
            self.write_record(name, record)
            return status

    # --- reading -------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return self.record_path(name).exists()

    def read_record(self, name: str) -> dict[str, Any]:
        record = read_json(self.record_path(name))
        if record is None:
            raise ResourceNotFoundError(f"no local execution named {name!r}")
        return record

    def events(self, name: str) -> list[dict[str, Any]]:
        path = self.events_path(name)
        if not path.exists():
            return []
        events = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:  # a line cut by a kill mid-write
                    continue
        return events

    def events_since(self, name: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Events appended after byte ``offset`` (complete lines only) and the new offset."""
        path = self.events_path(name)
        if not path.exists():
            return [], offset
        with path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1
        events = []
        for line in chunk[:end].splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return events, offset + end

    def describe(self, name: str) -> dict[str, Any]:
        """The record; a RUNNING one whose owner died is marked ABORTED first."""
        record = self.read_record(name)
        if record.get("status") == RUNNING and name not in self.active and not _owner_alive(record):
            self.mark_abandoned(name, record)
            record = self.read_record(name)
        return record

    def mark_abandoned(self, name: str, record: dict[str, Any]) -> None:
        events = self.events(name)
        last_id = max((int(e.get("id", 0)) for e in events), default=0)
        cause = f"the process running this execution (pid {record.get('owner_pid')}) exited"
        self.append_event(
            name,
            {
                "id": last_id + 1,
                "previousEventId": last_id,
                "type": "ExecutionAborted",
                "timestamp": now_iso(),
                "executionAbortedEventDetails": {"error": "OwnerExited", "cause": cause},
            },
        )

    def names(self) -> list[str]:
        root = self.workspace.executions_dir
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "execution.json").exists())


def _maybe_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
