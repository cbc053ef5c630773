"""Card history kept between scorings: the training snapshot and the realtime entity store.

Why: history features need a card's earlier events. Like AFD's Transaction Fraud Insights,
which keeps entity aggregates from the training data and updates them with every prediction,
a model version saves a *snapshot* of every card at the end of its training data, and realtime
scoring keeps an *entity store* (SQLite in the workspace) that starts from that snapshot and is
updated with each scored event. Batch scoring starts from the snapshot too (plus, when given,
the event history of the scoring period), so batch and realtime see the same history.

A card's state is ``recent`` events (those that can still fall in a window: newer than the
newest event minus :data:`~fraudpipe.engine.features.HISTORY_SPAN`) plus an ``older`` summary
(count, cents sum, last event) of everything before. Cards are keyed by a hash of the card
number, so no card number is stored at rest.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fraudpipe.engine.features import HISTORY_SPAN, CardBase

__all__ = ["CardState", "EntityStore", "Snapshot", "entity_key", "entity_keys"]


def entity_key(card: str) -> str:
    """Stable non-reversible key of one card id."""
    return hashlib.blake2b(str(card).encode(), digest_size=10).hexdigest()


def entity_keys(cards: np.ndarray) -> np.ndarray:
    """:func:`entity_key` of many card ids (hashes each distinct id once)."""
    uniques, inverse = np.unique(np.asarray(cards, dtype=object).astype(str), return_inverse=True)
    hashed = np.array([entity_key(u) for u in uniques], dtype=object)
    return hashed[inverse]


@dataclass
class CardState:
    """One card's history: recent events and a summary of the older ones."""

    older_count: int = 0
    older_sum: int = 0
    last_ts: float = float("nan")
    last_cents: float = float("nan")
    recent: list[tuple[int, int]] = field(default_factory=list)  # (ts, cents), time order
    older_sumsq: int = 0
    first_ts: float = float("nan")  # the card's first event ever (recent ones included)

    def base(self, n: int) -> CardBase:
        """The summary as per-row arrays for ``n`` history rows of this card."""
        return CardBase(
            count=np.full(n, self.older_count, dtype=np.int64),
            sum_cents=np.full(n, self.older_sum, dtype=np.int64),
            last_ts=np.full(n, self.last_ts),
            last_cents=np.full(n, self.last_cents),
            sumsq_cents=np.full(n, self.older_sumsq, dtype=np.int64),
            first_ts=np.full(n, self.first_ts),
        )

    def add(self, ts: int, cents: int) -> None:
        """Record a scored event and move events that can no longer be in a window to older."""
        if np.isnan(self.first_ts) or ts < self.first_ts:
            self.first_ts = float(ts)
        self.recent.append((int(ts), int(cents)))
        self.recent.sort(key=lambda event: event[0])
        newest = self.recent[-1][0]
        while self.recent and self.recent[0][0] <= newest - HISTORY_SPAN:
            old_ts, old_cents = self.recent.pop(0)
            self.older_count += 1
            self.older_sum += old_cents
            self.older_sumsq += old_cents * old_cents
            if np.isnan(self.last_ts) or old_ts >= self.last_ts:
                self.last_ts, self.last_cents = float(old_ts), float(old_cents)


class Snapshot:
    """Per-card state at the end of a model version's training data (two parquet files)."""

    def __init__(self, older: pd.DataFrame, recent: pd.DataFrame) -> None:
        self.older = older.set_index("key") if "key" in older.columns else older
        self.recent = recent
        self._by_key: dict[str, list[tuple[int, int]]] | None = None

    @classmethod
    def from_events(cls, keys: np.ndarray, ts: np.ndarray, cents: np.ndarray) -> Snapshot:
        """Snapshot after ``events`` (any order; ties keep input order)."""
        frame = pd.DataFrame({"key": keys, "ts": ts, "cents": cents})
        frame = frame.sort_values(["key", "ts"], kind="stable")
        frame["sq"] = frame["cents"] * frame["cents"]
        newest = frame.groupby("key")["ts"].transform("max")
        is_recent = frame["ts"] > newest - HISTORY_SPAN
        old = frame[~is_recent]
        older = old.groupby("key").agg(
            older_count=("cents", "size"),
            older_sum=("cents", "sum"),
            older_sumsq=("sq", "sum"),
            last_ts=("ts", "last"),
            last_cents=("cents", "last"),
        )
        older = older.reindex(frame["key"].unique())
        for column in ("older_count", "older_sum", "older_sumsq"):
            older[column] = older[column].fillna(0).astype(np.int64)
        older[["last_ts", "last_cents"]] = older[["last_ts", "last_cents"]].astype(float)
        older["first_ts"] = frame.groupby("key")["ts"].min().reindex(older.index).astype(float)
        frame = frame.drop(columns=["sq"])
        older.index.name = "key"
        return cls(older, frame[is_recent].reset_index(drop=True))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.older.reset_index().to_parquet(folder / "entities_older.parquet", index=False)
        self.recent.to_parquet(folder / "entities_recent.parquet", index=False)

    @classmethod
    def load(cls, folder: Path) -> Snapshot:
        older_path = folder / "entities_older.parquet"
        if not older_path.exists():
            return cls(
                pd.DataFrame(columns=["key", "older_count", "older_sum", "last_ts", "last_cents",
                                      "older_sumsq", "first_ts"]),
                pd.DataFrame({"key": [], "ts": [], "cents": []}),
            )
        return cls(
            pd.read_parquet(older_path), pd.read_parquet(folder / "entities_recent.parquet")
        )

    def card(self, key: str) -> CardState:
        """The state of one card (empty if the card was not in the training data)."""
        if self._by_key is None:
            self._by_key = {}
            columns = (self.recent["key"], self.recent["ts"], self.recent["cents"])
            for k, t, a in zip(*columns, strict=True):
                self._by_key.setdefault(k, []).append((int(t), int(a)))
        if key not in self.older.index:
            return CardState()
        row = self.older.loc[key]
        return CardState(
            older_count=int(row["older_count"]),
            older_sum=int(row["older_sum"]),
            last_ts=float(row["last_ts"]),
            last_cents=float(row["last_cents"]),
            recent=list(self._by_key.get(key, [])),
            older_sumsq=int(row["older_sumsq"]),
            first_ts=float(row["first_ts"]),
        )


class EntityStore:
    """Realtime card histories in SQLite, shared by every process serving the workspace."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cards (key TEXT PRIMARY KEY, older_count INTEGER,"
            " older_sum INTEGER, last_ts REAL, last_cents REAL, recent TEXT,"
            " older_sumsq INTEGER, first_ts REAL)"
        )

    def begin(self) -> None:
        """Start a write transaction (read-modify-write of a card is atomic across processes)."""
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        self._db.execute("ROLLBACK")

    def get(self, key: str) -> CardState | None:
        row = self._db.execute(
            "SELECT older_count, older_sum, last_ts, last_cents, recent, older_sumsq, first_ts"
            " FROM cards WHERE key=?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return CardState(
            older_count=row[0],
            older_sum=row[1],
            last_ts=float("nan") if row[2] is None else row[2],
            last_cents=float("nan") if row[3] is None else row[3],
            recent=[(int(t), int(a)) for t, a in json.loads(row[4])],
            older_sumsq=row[5],
            first_ts=float("nan") if row[6] is None else row[6],
        )

    def put(self, key: str, state: CardState) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                state.older_count,
                state.older_sum,
                None if np.isnan(state.last_ts) else state.last_ts,
                None if np.isnan(state.last_cents) else state.last_cents,
                json.dumps(state.recent),
                state.older_sumsq,
                None if np.isnan(state.first_ts) else state.first_ts,
            ),
        )

    def close(self) -> None:
        self._db.close()
