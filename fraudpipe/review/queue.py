"""The local review queue: one SQLite file in the workspace, shared by every process.

Why SQLite: ``fraudpipe run`` (which holds the waiting execution), ``fraudpipe serve`` (review
pages) and ``fraudpipe review decide`` are separate processes; SQLite gives them one consistent
store with transactions and no server. Each call opens its own short connection.

Tables: ``loops`` (one row per human loop: event, score, task object, status, verdict) and
``waits`` (one row per execution waiting with a task token, until it is resumed or closed).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraudpipe.errors import ResourceNotFoundError, ReviewError
from fraudpipe.review.loops import verdict_label

__all__ = ["LoopItem", "ReviewQueue", "Wait"]

PENDING, ANSWERED = "PENDING", "ANSWERED"
WAITING, RESUMED, CLOSED = "WAITING", "RESUMED", "CLOSED"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS loops (
    loop_name      TEXT PRIMARY KEY,
    execution_name TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    score          REAL NOT NULL,
    task_object    TEXT NOT NULL,
    status         TEXT NOT NULL,
    verdict        TEXT,
    created_at     TEXT NOT NULL,
    answered_at    TEXT
);
CREATE INDEX IF NOT EXISTS loops_by_execution ON loops (execution_name);
CREATE INDEX IF NOT EXISTS loops_by_status ON loops (status);
CREATE TABLE IF NOT EXISTS waits (
    execution_name TEXT PRIMARY KEY,
    task_token     TEXT NOT NULL,
    deadline       REAL NOT NULL,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    closed_at      TEXT
);
"""


def utc_now() -> str:
    """Now as ISO 8601 UTC with a ``Z`` (the form labels and AFD use)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LoopItem:
    """One human loop in the queue."""

    loop_name: str
    execution_name: str
    event_id: str
    score: float
    task_object: dict[str, Any]
    status: str
    verdict: str | None
    created_at: str
    answered_at: str | None

    @property
    def answered(self) -> bool:
        return self.status == ANSWERED

    def to_dict(self) -> dict[str, Any]:
        return {
            "loop_name": self.loop_name,
            "execution_name": self.execution_name,
            "event_id": self.event_id,
            "score": self.score,
            "task_object": self.task_object,
            "status": self.status,
            "verdict": self.verdict,
            "created_at": self.created_at,
            "answered_at": self.answered_at,
        }


@dataclass(frozen=True)
class Wait:
    """An execution waiting (with a task token) for its loops to be answered."""

    execution_name: str
    task_token: str
    deadline: float
    status: str


class ReviewQueue:
    """Loops and waits in ``path`` (normally ``ws.review_db``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            if not self._ready:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                self._ready = True
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    # --- loops ----------------------------------------------------------------------------
    def add(
        self,
        loop_name: str,
        execution_name: str,
        event_id: str,
        score: float,
        task_object: dict[str, Any],
    ) -> bool:
        """Queue one loop; False if a loop of that name already exists (a retried start)."""
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO loops (loop_name, execution_name, event_id, score,"
                " task_object, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    loop_name,
                    execution_name,
                    str(event_id),
                    float(score),
                    json.dumps(task_object, default=str),
                    PENDING,
                    utc_now(),
                ),
            )
            return cur.rowcount == 1

    def get(self, loop_name: str) -> LoopItem:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM loops WHERE loop_name = ?", (loop_name,)).fetchone()
        if row is None:
            raise ResourceNotFoundError(f"no human loop named {loop_name!r} in the review queue")
        return _item(row)

    def items(
        self, status: str | None = None, execution_name: str | None = None
    ) -> list[LoopItem]:
        """Loops, highest score first (the order a reviewer should take them)."""
        sql, args = "SELECT * FROM loops WHERE 1=1", []
        if status:
            sql += " AND status = ?"
            args.append(status)
        if execution_name:
            sql += " AND execution_name = ?"
            args.append(execution_name)
        sql += " ORDER BY score DESC, created_at, loop_name"
        with self._connect() as conn:
            return [_item(r) for r in conn.execute(sql, args).fetchall()]

    def decide(self, loop_name: str, verdict: str) -> LoopItem:
        """Record a verdict (fraud / legit / escalate); answering twice is refused."""
        verdict_label(verdict)
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM loops WHERE loop_name = ?", (loop_name,)).fetchone()
            if row is None:
                raise ResourceNotFoundError(
                    f"no human loop named {loop_name!r} in the review queue"
                )
            if row["status"] == ANSWERED:
                raise ReviewError(f"human loop {loop_name!r} was already answered")
            conn.execute(
                "UPDATE loops SET status = ?, verdict = ?, answered_at = ? WHERE loop_name = ?",
                (ANSWERED, verdict, utc_now(), loop_name),
            )
            row = conn.execute("SELECT * FROM loops WHERE loop_name = ?", (loop_name,)).fetchone()
        return _item(row)

    def counts(self) -> dict[str, int]:
        with self._connect() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM loops GROUP BY status").fetchall()
        found = {r[0]: r[1] for r in rows}
        return {"pending": found.get(PENDING, 0), "answered": found.get(ANSWERED, 0)}

    # --- waits ----------------------------------------------------------------------------
    def add_wait(self, execution_name: str, task_token: str, timeout_seconds: float) -> None:
        """Record that ``execution_name`` waits with ``task_token`` (replaces an older wait)."""
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO waits (execution_name, task_token, deadline, status,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (execution_name, task_token, time.time() + timeout_seconds, WAITING, utc_now()),
            )

    def wait_of(self, execution_name: str) -> Wait | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM waits WHERE execution_name = ?", (execution_name,)
            ).fetchone()
        return _wait(row) if row else None

    def ready_waits(self, now: float | None = None) -> list[Wait]:
        """Waiting executions, before their deadline, with no pending loop left."""
        now = time.time() if now is None else now
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT w.* FROM waits w WHERE w.status = ? AND w.deadline > ? AND NOT EXISTS"
                " (SELECT 1 FROM loops l WHERE l.execution_name = w.execution_name"
                "  AND l.status = ?) ORDER BY w.created_at",
                (WAITING, now, PENDING),
            ).fetchall()
        return [_wait(r) for r in rows]

    def close_wait(self, execution_name: str, status: str = CLOSED) -> bool:
        """Mark a wait RESUMED or CLOSED; False if it was not waiting (someone else did)."""
        if status not in (RESUMED, CLOSED):
            raise ValueError(f"a wait can be closed as {RESUMED} or {CLOSED}, not {status!r}")
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE waits SET status = ?, closed_at = ? WHERE execution_name = ?"
                " AND status = ?",
                (status, utc_now(), execution_name, WAITING),
            )
            return cur.rowcount == 1


def _item(row: sqlite3.Row) -> LoopItem:
    return LoopItem(
        loop_name=row["loop_name"],
        execution_name=row["execution_name"],
        event_id=row["event_id"],
        score=row["score"],
        task_object=json.loads(row["task_object"]),
        status=row["status"],
        verdict=row["verdict"],
        created_at=row["created_at"],
        answered_at=row["answered_at"],
    )


def _wait(row: sqlite3.Row) -> Wait:
    return Wait(
        execution_name=row["execution_name"],
        task_token=row["task_token"],
        deadline=row["deadline"],
        status=row["status"],
    )
