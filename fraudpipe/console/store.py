"""Read executions persisted by the local runtime, fast enough for a workspace with thousands.

Why a cache keyed by file modification time: the list page must answer in well under 200 ms
with 1,000 executions. Parsing 1,000 ``execution.json`` files on every request costs more than
that; a ``stat`` each costs little, so a summary is re-read only when its file changed.
Histories (``events.jsonl``) are read only for the one execution a page shows.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraudpipe.console.history import ExecutionTrace, parse_time, trace_events
from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import Workspace

__all__ = ["ExecutionNotFoundError", "ExecutionPage", "ExecutionStore", "Summary"]

PAGE_SIZE = 50
HISTORIES_CACHED = 64
SWEEP_SECONDS = 1.0  # how stale a finished execution's summary may be
LIVENESS_SECONDS = 2.0  # how often a RUNNING execution's owner process is checked
TERMINAL = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")


class ExecutionNotFoundError(ResourceNotFoundError):
    """No execution of that name in the workspace."""


@dataclass(frozen=True)
class Summary:
    """What the executions list shows of one execution (read from ``execution.json`` only)."""

    name: str
    status: str
    start: datetime | None
    stop: datetime | None
    redrive_count: int
    error: str | None
    cause: str | None

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        running = self.status == "RUNNING"
        end = self.stop or ((now or datetime.now(UTC)) if running else None)
        if self.start is None or end is None:
            return None
        return max(0.0, (end - self.start).total_seconds())

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> Summary:
        return cls(
            name=str(record.get("name") or name),
            status=str(record.get("status") or "RUNNING").upper(),
            start=parse_time(record.get("start_date")),
            stop=parse_time(record.get("stop_date")),
            redrive_count=int(record.get("redrive_count") or 0),
            error=record.get("error"),
            cause=record.get("cause"),
        )


@dataclass(frozen=True)
class ExecutionPage:
    """One page of the filtered, newest-first list, plus counts for the filter bar."""

    items: list[Summary]
    page: int
    pages: int
    total: int
    counts: dict[str, int]

    @property
    def running(self) -> int:
        return self.counts.get("RUNNING", 0)


class ExecutionStore:
    """Executions of one workspace, with summaries cached by file mtime (thread-safe)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._summaries: dict[str, tuple[int, Summary]] = {}
        self._histories: OrderedDict[str, _History] = OrderedDict()
        self._traces: dict[tuple[Any, ...], ExecutionTrace] = {}
        self._checked: dict[str, float] = {}
        self._swept_mtime, self._swept_at = -1, 0.0
        self._sorted: list[Summary] = []
        self._sorted_from: dict[str, tuple[int, Summary]] | None = None
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.workspace.executions_dir

    def _folder(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ExecutionNotFoundError(f"no execution named {name!r}")
        return self.root / name

    def summaries(self) -> list[Summary]:
        """Every execution, newest first (re-reading only files that changed).

        A full sweep stats every ``execution.json``; between sweeps (at most
        ``SWEEP_SECONDS`` apart, sooner when an execution folder is added or removed) only the
        RUNNING executions are looked at again, since only they change without a redrive.
        """
        try:
            folder_mtime = os.stat(self.root).st_mtime_ns
        except FileNotFoundError:
            return []
        now = time.monotonic()
        with self._lock:
            recent = (folder_mtime == self._swept_mtime
                      and now - self._swept_at < SWEEP_SECONDS)
            known = dict(self._summaries)
        if recent:
            fresh = self._refresh(known, [n for n, (_, s) in known.items()
                                          if s.status == "RUNNING"])
        else:
            fresh = self._sweep(known)
            with self._lock:
                self._swept_mtime, self._swept_at = folder_mtime, now
        with self._lock:
            self._summaries = fresh
        if any(summary.status == "RUNNING" for _, summary in fresh.values()):
            fresh = self._check_running(fresh)
        if fresh is not self._sorted_from:
            oldest = datetime.min.replace(tzinfo=UTC)
            self._sorted = sorted(
                (summary for _, summary in fresh.values()),
                key=lambda s: (s.start or oldest, s.name),
                reverse=True,
            )
            self._sorted_from = fresh
        return self._sorted

    def _sweep(self, known: dict[str, tuple[int, Summary]]) -> dict[str, tuple[int, Summary]]:
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir()]
        except FileNotFoundError:
            return {}
        return self._refresh({n: known[n] for n in names if n in known}, names, full=True)

    def _refresh(
        self, known: dict[str, tuple[int, Summary]], names: list[str], full: bool = False
    ) -> dict[str, tuple[int, Summary]]:
        """Re-read the records of ``names`` whose file changed.

        Returns the current summaries object itself when nothing changed, so the sorted list
        made from it can be reused.
        """
        current = self._summaries
        fresh = dict(known)
        changed = full and len(fresh) != len(current)  # a folder disappeared
        for name in names:
            record_path = self.root / name / "execution.json"
            try:
                mtime = os.stat(record_path).st_mtime_ns
            except FileNotFoundError:
                changed |= fresh.pop(name, None) is not None
                continue
            cached = fresh.get(name)
            if cached is not None and cached[0] == mtime:
                continue
            record = _read_record(record_path)
            if record is not None:
                fresh[name] = (mtime, Summary.from_record(name, record))
                changed = True
        return fresh if changed else current

    def _check_running(self, fresh: dict[str, tuple[int, Summary]]) -> dict[str, tuple]:
        """RUNNING executions whose process died read as ABORTED (the runtime records it)."""
        changed = False
        for name, (_, summary) in fresh.items():
            if summary.status == "RUNNING" and self._owner_gone(name):
                changed = True
        return self._reread(fresh) if changed else fresh

    def _owner_gone(self, name: str) -> bool:
        """Ask the runtime (at most every few seconds per execution) whether its owner died."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked.get(name, -LIVENESS_SECONDS) < LIVENESS_SECONDS:
                return False
            self._checked[name] = now
        try:
            from fraudpipe.local.history import ExecutionStore as RuntimeStore
        except ImportError:
            return False
        try:
            return RuntimeStore(self.workspace).describe(name).get("status") != "RUNNING"
        except Exception:  # a record being rewritten: look again next time
            return False

    def _reread(self, known: dict[str, tuple[int, Summary]]) -> dict[str, tuple]:
        fresh = dict(known)
        for name in list(fresh):
            record_path = self.root / name / "execution.json"
            record = _read_record(record_path)
            if record is not None and fresh[name][1].status == "RUNNING":
                fresh[name] = (record_path.stat().st_mtime_ns, Summary.from_record(name, record))
        with self._lock:
            self._summaries = fresh
        return fresh

    def page(
        self, status: str | None = None, page: int = 1, size: int = PAGE_SIZE
    ) -> ExecutionPage:
        """Page ``page`` (from 1) of executions with ``status`` (all when ``None``)."""
        everything = self.summaries()
        counts: dict[str, int] = {}
        for summary in everything:
            counts[summary.status] = counts.get(summary.status, 0) + 1
        chosen = [s for s in everything if not status or s.status == status.upper()]
        pages = max(1, -(-len(chosen) // size))
        page = min(max(1, page), pages)
        items = chosen[(page - 1) * size : page * size]
        return ExecutionPage(items, page, pages, len(chosen), counts)

    def record(self, name: str) -> dict[str, Any]:
        """The full ``execution.json`` of ``name`` (an abandoned RUNNING one reads ABORTED)."""
        path = self._folder(name) / "execution.json"
        record = _read_record(path)
        if record is None:
            raise ExecutionNotFoundError(f"no execution named {name!r} in {self.root}")
        if record.get("status") == "RUNNING" and self._owner_gone(name):
            record = _read_record(path) or record
        return record

    def definition_path(self, name: str) -> Path:
        """The ASL the execution ran (the runtime keeps a copy next to its history)."""
        return self._folder(name) / "definition.asl.json"

    def exists(self, name: str) -> bool:
        try:
            return (self._folder(name) / "execution.json").is_file()
        except ExecutionNotFoundError:
            return False

    def events(self, name: str) -> list[dict[str, Any]]:
        """The history of ``name``, oldest first; a half-written last line is left for later.

        Histories only grow (the runtime appends), so a cached history is extended with the
        bytes appended since the last read instead of being parsed again.
        """
        path = self._folder(name) / "events.jsonl"
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return []
        with self._lock:
            cached = self._histories.get(name)
        if cached is None or cached.offset > size:
            cached = _History()
        if cached.offset < size:
            with path.open("rb") as handle:
                handle.seek(cached.offset)
                chunk = handle.read(size - cached.offset)
            complete = chunk.rfind(b"\n") + 1  # the runtime may be writing the last line
            events = list(cached.events)
            for line in chunk[:complete].splitlines():
                if line.strip():
                    try:
                        events.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue  # a line cut by a kill mid-write
            cached = _History(cached.offset + complete, events)
        with self._lock:
            self._histories[name] = cached
            self._histories.move_to_end(name)
            while len(self._histories) > HISTORIES_CACHED:
                self._histories.popitem(last=False)
        return list(cached.events)

    def trace(self, name: str) -> tuple[list[dict[str, Any]], ExecutionTrace]:
        """Events and their per-state trace (re-folded only when new events arrived)."""
        events = self.events(name)
        key = (name, len(events), events[-1].get("id") if events else None)
        with self._lock:
            found = self._traces.get(key)
        if found is None:
            found = trace_events(events)
            with self._lock:
                self._traces[key] = found
                while len(self._traces) > HISTORIES_CACHED:
                    self._traces.pop(next(iter(self._traces)))
        return events, found


@dataclass
class _History:
    """A parsed prefix of ``events.jsonl``: the events and how many bytes they came from."""

    offset: int = 0
    events: tuple[dict[str, Any], ...] | list[dict[str, Any]] = ()


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
