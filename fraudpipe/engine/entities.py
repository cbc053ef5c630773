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

import fcntl
import hashlib
import json
import math
import os
import sqlite3
import threading
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import Field, dataclass, field, fields
from functools import lru_cache
from operator import add, attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:  # faster (de)serialisation of card states on the realtime path; same JSON
    import orjson
except ImportError:  # pragma: no cover - orjson is a pinned dependency
    orjson = None  # type: ignore[assignment]

from fraudpipe.engine.features import BANDS, HISTORY_SPAN, CardBase, log_cents, time_band

__all__ = [
    "CATEGORY_STATS",
    "CardState",
    "EntityStore",
    "Snapshot",
    "StoredCard",
    "band_of",
    "bases_of",
    "decode_state",
    "encode_state",
    "entity_key",
    "entity_key_codes",
]


def entity_key(card: str) -> str:
    """Stable non-reversible key of one card id."""
    return hashlib.blake2b(str(card).encode(), digest_size=10).hexdigest()


def entity_key_codes(cards: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`entity_key` of each distinct card id, each row's index into them).

    Why: hashing a card id is the costly step, and a file has far fewer cards than rows, so
    each distinct id is hashed once; Arrow finds them without a Python string per row (1.3M
    rows: ~0.04 s against ~1.5 s through object arrays).
    """
    if isinstance(cards, pa.ChunkedArray):
        cards = cards.combine_chunks()
    encoded = pc.dictionary_encode(cards)
    keys = np.array([entity_key(card) for card in encoded.dictionary.to_pylist()], dtype=object)
    return keys, encoded.indices.to_numpy(zero_copy_only=False)


#: Per-category sums kept for a card: count, cents, squared cents, log cents, squared log cents.
CATEGORY_STATS = ("count", "sum", "sumsq", "log_sum", "log_sumsq")


def _category_row(cents: int) -> list[int]:
    log = _log_of(cents)
    return [1, cents, cents * cents, log, log * log]


@lru_cache(maxsize=65_536)
def _log_of(cents: int) -> int:
    """:func:`~fraudpipe.engine.features.log_cents` of one amount, remembered: the same numpy
    call as ever on a new amount (so the same integer), a dict look-up on one seen before."""
    return int(log_cents(np.array([cents]))[0])


#: The time band of each hour of the day, from :func:`~fraudpipe.engine.features.time_band`.
_HOUR_BAND = tuple(time_band(np.arange(24) * 3600).tolist())


def band_of(ts: int) -> int:
    """:func:`~fraudpipe.engine.features.time_band` of one timestamp in Python integers.

    Why it equals the numpy function: the band is looked up by the hour of day, which
    ``time_band`` takes as ``ts // 3600 % 24``; numpy's ``//`` and ``%`` on int64 round
    towards minus infinity exactly as Python's do, with no overflow for int64 inputs."""
    return _HOUR_BAND[ts // 3600 % 24]


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
    #: category of each ``recent`` event ("" unknown), same order
    recent_categories: list[str] = field(default_factory=list)
    #: older events per category: CATEGORY_STATS sums
    older_categories: dict[str, list[int]] = field(default_factory=dict)
    #: older events per time band (features.BANDS of them)
    older_bands: list[int] = field(default_factory=lambda: [0] * BANDS)

    def categories_of_recent(self) -> list[str]:
        """``recent_categories`` padded with "" (states written before categories were kept)."""
        missing = len(self.recent) - len(self.recent_categories)
        return list(self.recent_categories) + [""] * max(missing, 0)

    def add(self, ts: int, cents: int, category: str = "") -> None:
        """Record a scored event and move events that can no longer be in a window to older.

        Why not one sort of (event, category) pairs: a realtime server calls this for every
        event, and the new event nearly always goes last; where the recent events are in time
        order (always, unless written by hand), it is inserted after those at or before its
        time, the place the stable sort gives it."""
        if math.isnan(self.first_ts) or ts < self.first_ts:
            self.first_ts = float(ts)
        event, name = (int(ts), int(cents)), str(category).strip()
        recent = list(self.recent)
        if len(self.recent_categories) > len(recent):  # let zip(strict=True) say what is wrong
            list(zip(recent, self.recent_categories, strict=True))
        categories = self.categories_of_recent()
        if not recent or (event[0] >= recent[-1][0] and _in_order(recent)):
            recent.append(event)  # the usual case: after events in (time, amount) order
            categories.append(name)
        elif (times := [t for t, _ in recent]) == sorted(times):
            at = bisect_right(times, event[0])
            recent.insert(at, event)
            categories.insert(at, name)
        else:
            events = list(zip(recent, categories, strict=True))
            events.append((event, name))
            events.sort(key=lambda item: item[0][0])
            recent = [item for item, _ in events]
            categories = [item for _, item in events]
        cutoff = recent[-1][0] - HISTORY_SPAN
        aged = 0
        while aged < len(recent) and recent[aged][0] <= cutoff:
            aged += 1
        for (old_ts, old_cents), old_category in zip(recent[:aged], categories[:aged],
                                                      strict=True):
            self.older_count += 1
            self.older_sum += old_cents
            self.older_sumsq += old_cents * old_cents
            if math.isnan(self.last_ts) or old_ts >= self.last_ts:
                self.last_ts, self.last_cents = float(old_ts), float(old_cents)
            if len(self.older_bands) != BANDS:
                self.older_bands = [0] * BANDS
            self.older_bands[_HOUR_BAND[int(old_ts) // 3600 % 24]] += 1
            if old_category:
                row = _category_row(old_cents)
                kept = self.older_categories.get(old_category)
                if kept is None:
                    self.older_categories[old_category] = row
                else:
                    if len(kept) != len(row):  # as zip(strict=True) refused it
                        raise ValueError(f"category sums of {len(kept)} values, not {len(row)}")
                    self.older_categories[old_category] = list(map(add, kept, row))
        self.recent = recent[aged:] if aged else recent
        self.recent_categories = categories[aged:] if aged else categories


def _in_order(recent: list[Any]) -> bool:
    """Whether the events are in (time, amount) order, hence in time order (one sort in C;
    False where they cannot be compared, and the caller takes the general way)."""
    try:
        return recent == sorted(recent)
    except TypeError:
        return False


def bases_of(states: list[CardState], categories: list[list[str]],
             times: list[list[int]]) -> CardBase:
    """Each card's older summary as per-row arrays for its rows (``categories`` and ``times``
    of each card's rows), concatenated in one :class:`CardBase`: every row carries the card's
    older count, sums and last event, and the older events of its own category and time band.

    Why: realtime scoring needs this for every event, and building each card's dozen arrays
    and concatenating them cost more than the rows' values; here each row's integers are laid
    out in one Python list (and its times in another) and turned into two arrays, whose
    columns are the fields (the same values and dtypes as building each card's arrays and
    concatenating them, tested): counts and sums
    int64, each row's category sums and time-band count looked up in the state (the band as
    :func:`band_of` gives it), and the three times float64 (typed as ``np.full`` types them
    when a state holds another type).
    """
    zero = [0] * len(CATEGORY_STATS)
    ints: list[int] = []  # per row: count, sum, sum of squares, band count, category sums
    floats: list[Any] = []  # per row: last time, last amount, first time
    plain = True
    for state, names, card_times in zip(states, categories, times, strict=True):
        head = [state.older_count, state.older_sum, state.older_sumsq]
        last_ts, last_cents, first_ts = state.last_ts, state.last_cents, state.first_ts
        plain = plain and type(last_ts) is float and type(last_cents) is float and (
            type(first_ts) is float)
        floats += [last_ts, last_cents, first_ts] * len(names)
        older, found = state.older_bands, state.older_categories
        for name, t in zip(names, card_times, strict=True):
            ints += head
            ints.append(older[_HOUR_BAND[int(t) // 3600 % 24]])
            ints += found.get(str(name).strip(), zero) if found else zero
    count, total, squares, bands, *stats = np.array(ints, dtype=np.int64).reshape(
        -1, 4 + len(zero)).T  # the columns, as views (unpacking is quicker than indexing)
    if plain:
        last_ts, last_cents, first_ts = np.array(floats, dtype=np.float64).reshape(-1, 3).T
    else:  # np.full's dtype of each card's value, concatenated
        last_ts, last_cents, first_ts = (
            np.concatenate([np.full(len(names), getattr(state, field))
                            for state, names in zip(states, categories, strict=True)])
            for field in ("last_ts", "last_cents", "first_ts"))
    return CardBase(
        count=count, sum_cents=total, last_ts=last_ts, last_cents=last_cents,
        sumsq_cents=squares, first_ts=first_ts, cat_count=stats[0], cat_sum=stats[1],
        cat_sumsq=stats[2], cat_log_sum=stats[3], cat_log_sumsq=stats[4], band_count=bands,
    )


def _group_sums(group: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact int64 sums of ``values`` per ``group`` code (0..size-1)."""
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, group, np.asarray(values, dtype=np.int64))
    return total


class Snapshot:
    """Per-card state at the end of a model version's training data (parquet files)."""

    def __init__(self, older: pd.DataFrame, recent: pd.DataFrame,
                 categories: pd.DataFrame | None = None) -> None:
        self.older = older.set_index("key") if "key" in older.columns else older
        self.recent = recent
        if "category" not in self.recent.columns:
            self.recent = self.recent.assign(category="")
        if categories is None:
            categories = pd.DataFrame({"key": [], "category": [],
                                       **{s: [] for s in CATEGORY_STATS}})
        self.categories = categories
        self._index: _CardIndex | None = None

    @classmethod
    def from_events(cls, keys: np.ndarray, ts: np.ndarray, cents: np.ndarray,
                    categories: np.ndarray | None = None) -> Snapshot:
        """Snapshot after ``events`` (any order; ties keep input order).

        Vectorised over integer card codes (1.3M training events in about a second): sums stay
        integers, so the snapshot's sums equal the ones realtime scoring keeps event by event.
        """
        n = len(keys)
        if categories is None:
            categories = np.full(n, "", dtype=object)
        names = pc.utf8_trim_whitespace(pa.array(categories, type=pa.string(), from_pandas=True))
        names = names.fill_null("").to_numpy(zero_copy_only=False).astype(object)
        codes, uniques = pd.factorize(np.asarray(keys, dtype=object))
        ts, cents = np.asarray(ts, dtype=np.int64), np.asarray(cents, dtype=np.int64)
        order = np.lexsort((np.arange(n), ts, codes))
        c, t, a, names = codes[order], ts[order], cents[order], names[order]
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if n else np.zeros(0, np.int64)
        ends = np.r_[starts[1:], n] - 1 if n else np.zeros(0, np.int64)
        newest = t[ends][np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))]
        is_recent = t > newest - HISTORY_SPAN
        old = ~is_recent
        k = len(uniques)
        older = pd.DataFrame(index=pd.Index(uniques, dtype=object, name="key"))
        older["older_count"] = np.bincount(c[old], minlength=k).astype(np.int64)
        older["older_sum"] = _group_sums(c[old], a[old], k)
        older["older_sumsq"] = _group_sums(c[old], a[old] * a[old], k)
        # rows are sorted by card code then time, and a card's older events come first
        count = older["older_count"].to_numpy()
        last = np.where(count > 0, starts + count - 1, -1)
        older["last_ts"] = np.where(last >= 0, t[last].astype(float), np.nan)
        older["last_cents"] = np.where(last >= 0, a[last].astype(float), np.nan)
        older["first_ts"] = t[starts].astype(float)
        bands = np.bincount(c[old] * BANDS + time_band(t[old]), minlength=k * BANDS)
        for band in range(BANDS):
            older[f"band_{band}"] = bands.reshape(k, BANDS)[:, band].astype(np.int64)
        named = old & (names != "")
        name_codes, vocabulary = pd.factorize(names[named])
        pair = c[named].astype(np.int64) * (len(vocabulary) + 1) + name_codes
        pairs, inverse = np.unique(pair, return_inverse=True)
        log = log_cents(a[named])
        per_category = pd.DataFrame({
            "key": uniques[pairs // (len(vocabulary) + 1)] if len(pairs) else [],
            "category": vocabulary[pairs % (len(vocabulary) + 1)] if len(pairs) else [],
        })
        for stat, values in (("count", np.ones(len(log), np.int64)), ("sum", a[named]),
                             ("sumsq", a[named] * a[named]), ("log_sum", log),
                             ("log_sumsq", log * log)):
            per_category[stat] = _group_sums(inverse, values, len(pairs))
        recent = pd.DataFrame({"key": uniques[c[is_recent]], "ts": t[is_recent],
                               "cents": a[is_recent], "category": names[is_recent]})
        return cls(older, recent, per_category)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.older.reset_index().to_parquet(folder / "entities_older.parquet", index=False)
        self.recent.to_parquet(folder / "entities_recent.parquet", index=False)
        self.categories.to_parquet(folder / "entities_categories.parquet", index=False)

    @classmethod
    def load(cls, folder: Path) -> Snapshot:
        older_path = folder / "entities_older.parquet"
        if not older_path.exists():
            return cls(
                pd.DataFrame(columns=["key", "older_count", "older_sum", "last_ts", "last_cents",
                                      "older_sumsq", "first_ts"]),
                pd.DataFrame({"key": [], "ts": [], "cents": []}),
            )
        categories_path = folder / "entities_categories.parquet"
        return cls(
            pd.read_parquet(older_path), pd.read_parquet(folder / "entities_recent.parquet"),
            pd.read_parquet(categories_path) if categories_path.exists() else None,
        )

    def older_bands(self, uniques: np.ndarray) -> np.ndarray:
        """(len(uniques), BANDS) older event counts per time band of the given card keys."""
        columns = [f"band_{band}" for band in range(BANDS)]
        if not set(columns) <= set(self.older.columns):
            return np.zeros((len(uniques), BANDS), dtype=np.int64)
        table = self.older[columns].reindex(pd.Index(uniques, dtype=object))
        return table.fillna(0).to_numpy(dtype=np.int64)

    def card(self, key: str) -> CardState:
        """The state of one card (empty if the card was not in the training data)."""
        index = self._index if self._index is not None else self._build_index()
        older, recent, categories = index[0].get(key), index[1].get(key, []), index[2]
        if older is None:
            return CardState()
        count, total, last_ts, last_cents, sumsq, first_ts, *bands = older
        return CardState(
            older_count=count,
            older_sum=total,
            last_ts=last_ts,
            last_cents=last_cents,
            recent=[(t, a) for t, a, _ in recent],
            older_sumsq=sumsq,
            first_ts=first_ts,
            recent_categories=[c for _, _, c in recent],
            older_categories={k: list(v) for k, v in categories.get(key, {}).items()},
            older_bands=bands,
        )

    def _build_index(self) -> _CardIndex:
        """Every card's older summary, recent events and category sums as Python values, built
        once (the first realtime request of a version) and published whole, so a thread never
        reads a half-built index.

        Why: :meth:`card` runs for each card realtime scores for the first time; reading the
        older summary from plain tuples instead of a pandas row costs a tenth as much."""
        older = self.older
        names = ("older_count", "older_sum", "last_ts", "last_cents", "older_sumsq", "first_ts")
        kinds = (int, int, float, float, int, float)
        columns = [[kind(v) for v in older[name].tolist()] for name, kind in zip(
            names, kinds, strict=True)]
        for band in range(BANDS):
            name = f"band_{band}"
            columns.append([int(v) for v in older[name].tolist()] if name in older.columns
                           else [0] * len(older))
        older_by_key = {key: list(row) for key, *row in zip(older.index, *columns, strict=True)}
        recent: dict[str, list[tuple[int, int, str]]] = {}
        for k, t, a, c in zip(self.recent["key"], self.recent["ts"], self.recent["cents"],
                              self.recent["category"], strict=True):
            recent.setdefault(k, []).append((int(t), int(a), str(c)))
        categories: dict[str, dict[str, list[int]]] = {}
        table = self.categories
        for row in zip(table["key"], table["category"],
                       *(table[s] for s in CATEGORY_STATS), strict=True):
            categories.setdefault(row[0], {})[str(row[1])] = [int(v) for v in row[2:]]
        self._index = (older_by_key, recent, categories)
        return self._index


_CardIndex = tuple[dict[str, list[Any]], dict[str, list[tuple[int, int, str]]],
                   dict[str, dict[str, list[int]]]]


class StoredCard(NamedTuple):
    """A card's state as read from the store, with the row version a write must match."""

    version: int
    state: CardState


class EntityStore:
    """Realtime card histories in SQLite, shared by every process serving the workspace.

    Why this shape (the realtime path is latency-bound):

    - One row per card: ``(key, version, state)`` with the whole :class:`CardState` as JSON,
      so a field the engine adds to the state is stored without a schema change.
    - Reads take no lock (WAL: readers never wait for the writer). A write is one conditional
      UPSERT per card (in autocommit mode; the cards scored together in one transaction,
      :meth:`write_many`), applied only if the row still has the version that was read
      (False otherwise, and the caller scores that card again on the newer state):
      scoring happens outside any lock, so several ``serve`` workers score in parallel and
      still apply every card's events one after the other.
    - Writers queue on an ``fcntl`` lock of ``<store>.lock`` (the kernel wakes the next one
      at once) instead of SQLite's busy handler, which sleeps 1 ms, 2 ms, 5 ms... on a busy
      database and put those sleeps in the p99.
    - ``synchronous=NORMAL`` in WAL mode: a scored event survives a crash of the process;
      a power cut may lose the last events scored before it (never corrupts the store).
    """

    #: Attempts of the lock-free path before scoring under the writers' lock.
    OPTIMISTIC_ATTEMPTS = 3
    #: Seconds between two checkpoints of :meth:`checkpoint_in_background`.
    CHECKPOINT_INTERVAL = 0.5

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS card_states"
            " (key TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL)"
        )
        self._lock_fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._held = 0
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        with self.exclusive():
            self._migrate()

    def checkpoint_in_background(self) -> None:
        """Copy the WAL into the database from a thread of its own (a connection of its own,
        every :data:`CHECKPOINT_INTERVAL` seconds) instead of in the commit that crosses
        SQLite's 1,000-page threshold.

        Why: that commit copied the whole WAL (~4 MB after 1,000 single-card commits) before
        returning, a 1.5-15 ms stall of the serving event loop every ~1,000 predictions, which
        every request queued behind it waited for. Here a PASSIVE checkpoint (it blocks no one;
        SQLite releases the GIL while it copies) copies the frames, then a RESTART checkpoint,
        taken between two writes under the writers' lock and never waiting for a reader, copies
        the few frames written meanwhile and lets the next commit start the WAL from its
        beginning (PASSIVE alone never did: the WAL grew without end). Durability is unchanged:
        a commit is in the WAL either way. For long-running servers (``fraudpipe serve``); a
        store without it checkpoints as SQLite does by default.
        """
        if self._checkpointer is not None:
            return
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="entity-store-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        db = sqlite3.connect(self.path, timeout=0, isolation_level=None)  # never waits
        lock = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)  # its own
        try:
            while not self._stop.wait(self.CHECKPOINT_INTERVAL):
                _checkpoint(db, lock)
            _checkpoint(db, lock)
        finally:
            db.close()
            os.close(lock)

    def read(self, key: str) -> StoredCard | None:
        """The card's stored state and row version (None for a card never scored here)."""
        row = self._db.execute(
            "SELECT version, state FROM card_states WHERE key=?", (key,)
        ).fetchone()
        return None if row is None else StoredCard(row[0], decode_state(row[1]))

    def read_many(self, keys: list[str]) -> dict[str, StoredCard]:
        """:meth:`read` of several cards in one query (cards never scored here are absent)."""
        if len(keys) == 1:
            found = self.read(keys[0])
            return {} if found is None else {keys[0]: found}
        marks = ",".join("?" * len(keys))
        rows = self._db.execute(
            f"SELECT key, version, state FROM card_states WHERE key IN ({marks})", keys
        ).fetchall()
        return {key: StoredCard(version, decode_state(state)) for key, version, state in rows}

    def write(self, key: str, state: CardState, version: int) -> bool:
        """Store ``state`` if the card's row is still at ``version`` (0: no row yet)."""
        return self.write_many([(key, state, version)])[0]

    def write_many(self, items: list[tuple[str, CardState, int]]) -> list[bool]:
        """:meth:`write` of several ``(key, state, version)``, in one transaction; which
        applied. Why one transaction: a commit appends to the WAL and wakes the next writer,
        so the events scored together are recorded together."""
        rows = [(key, version, encode_state(state)) for key, state, version in items]
        if len(rows) == 1 and self._held == 0:  # the usual case, without the context manager
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._held = 1
            try:
                return [self._db.execute(self._UPSERT, rows[0]).rowcount == 1]
            finally:
                self._held = 0
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        with self.exclusive():
            if len(rows) == 1:
                return [self._db.execute(self._UPSERT, rows[0]).rowcount == 1]
            self._db.execute("BEGIN IMMEDIATE")
            try:
                applied = [self._db.execute(self._UPSERT, row).rowcount == 1 for row in rows]
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return applied

    _UPSERT = (
        "INSERT INTO card_states (key, version, state) VALUES (?1, ?2 + 1, ?3)"
        " ON CONFLICT(key) DO UPDATE SET version = ?2 + 1, state = ?3"
        " WHERE card_states.version = ?2"
    )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the writers' lock (re-entrant in this process; one thread at a time)."""
        if self._held == 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if self._held == 0:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _migrate(self) -> None:
        """Move the rows of the older column-per-field table (``cards``) into ``card_states``."""
        old = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='cards'"
        ).fetchone()
        if old is None:
            return
        rows = self._db.execute(
            "SELECT key, older_count, older_sum, last_ts, last_cents, recent, older_sumsq,"
            " first_ts FROM cards"
        ).fetchall()
        nan = float("nan")
        self._db.execute("BEGIN IMMEDIATE")
        for key, count, total, last_ts, last_cents, recent, sumsq, first_ts in rows:
            state = CardState(
                older_count=count, older_sum=total,
                last_ts=nan if last_ts is None else last_ts,
                last_cents=nan if last_cents is None else last_cents,
                recent=[(int(t), int(a)) for t, a in json.loads(recent)],
                older_sumsq=sumsq, first_ts=nan if first_ts is None else first_ts,
            )  # fmt: skip
            self._db.execute(
                "INSERT OR IGNORE INTO card_states VALUES (?, 1, ?)", (key, encode_state(state))
            )
        self._db.execute("DROP TABLE cards")
        self._db.execute("COMMIT")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._stop.set()
            self._checkpointer.join()
            self._checkpointer = None
        self._db.close()
        os.close(self._lock_fd)


#: WAL frames after which the background checkpointer restarts the WAL (SQLite's default
#: automatic checkpoint threshold, in pages).
RESTART_FRAMES = 1000


def _checkpoint(db: sqlite3.Connection, lock: int) -> None:
    """One background checkpoint (see :meth:`EntityStore.checkpoint_in_background`); a busy
    database leaves the rest to the next one.

    The RESTART (which syncs the WAL and the database file while writers wait) runs only once
    the WAL holds :data:`RESTART_FRAMES` frames, as often as SQLite's own checkpoint ran, but
    with the bulk of the copying already done by the PASSIVE ones."""
    try:
        _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames < RESTART_FRAMES:
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    except sqlite3.Error:
        pass


def encode_state(state: CardState) -> str:
    """JSON of every field of ``state`` (NaN as null; tuples as arrays).

    Fields must be JSON-shaped: numbers, strings, lists of tuples, dicts with string keys.
    """
    s = state
    if type(s.older_count) is int and type(s.older_sum) is int and type(s.older_sumsq) is int:
        # the usual types: only the three times and amounts can be NaN (a literal is quicker
        # than the loop below; the same object, keys in field order)
        # (a test checks that it names every field, in order)
        last_ts, last_cents, first_ts = s.last_ts, s.last_cents, s.first_ts
        values = {
            "older_count": s.older_count, "older_sum": s.older_sum,
            "last_ts": None if isinstance(last_ts, float) and last_ts != last_ts else last_ts,
            "last_cents": (None if isinstance(last_cents, float) and last_cents != last_cents
                           else last_cents),
            "recent": s.recent, "older_sumsq": s.older_sumsq,
            "first_ts": None if isinstance(first_ts, float) and first_ts != first_ts else first_ts,
            "recent_categories": s.recent_categories, "older_categories": s.older_categories,
            "older_bands": s.older_bands,
        }  # fmt: skip
    else:
        values = dict(zip(_state_names(), _state_values()(state), strict=True))
        for name, value in values.items():
            if isinstance(value, float) and math.isnan(value):
                values[name] = None
    if orjson is not None:
        try:
            return orjson.dumps(values).decode()
        except TypeError:  # an integer beyond 64 bits: see below
            pass
    # The standard library writes (and, marked by the leading space, reads back) integers
    # beyond 64 bits exactly; orjson would read them back as floats.
    return " " + json.dumps(values, separators=(",", ":"))


def decode_state(text: str) -> CardState:
    """Inverse of :func:`encode_state`; a field the JSON lacks gets its default."""
    exact = orjson is None or text.startswith(" ")
    values = json.loads(text) if exact else orjson.loads(text)
    if values.keys() == _state_key_set():  # every field (what encode_state writes)
        return _decode_fields(values)
    known = {}
    for item in _state_fields():
        if item.name not in values:
            continue
        value = values[item.name]
        if value is None and isinstance(item.default, float):
            value = float("nan")
        elif isinstance(value, list):
            value = [tuple(v) if isinstance(v, list) else v for v in value]
        known[item.name] = value
    return CardState(**known)


def _decode_fields(values: dict[str, Any]) -> CardState:
    """:func:`decode_state` of a JSON object with every field, without the per-field loop:
    the same conversions (null floats to NaN, arrays in lists to tuples), field by field.
    The lists are the decoder's own new objects, so they are kept rather than copied."""
    nan = float("nan")
    last_ts, last_cents, first_ts = values["last_ts"], values["last_cents"], values["first_ts"]
    return CardState(
        older_count=values["older_count"],
        older_sum=values["older_sum"],
        last_ts=nan if last_ts is None else last_ts,
        last_cents=nan if last_cents is None else last_cents,
        recent=_tuples(values["recent"]),
        older_sumsq=values["older_sumsq"],
        first_ts=nan if first_ts is None else first_ts,
        recent_categories=_tuples(values["recent_categories"]),
        older_categories=values["older_categories"],
        older_bands=_tuples(values["older_bands"]),
    )


def _tuples(value: Any) -> Any:
    """A list field as :func:`decode_state` converts it: arrays in it become tuples (recent
    events are ``[ts, cents]`` arrays, the other lists hold none)."""
    if not isinstance(value, list):
        return value
    kinds = set(map(type, value))
    if list not in kinds:
        return value
    if len(kinds) == 1:
        return list(map(tuple, value))
    return [tuple(v) if isinstance(v, list) else v for v in value]


@lru_cache(maxsize=1)
def _state_fields() -> tuple[Field[Any], ...]:
    return fields(CardState)


@lru_cache(maxsize=1)
def _state_names() -> tuple[str, ...]:
    return tuple(item.name for item in _state_fields())


@lru_cache(maxsize=1)
def _state_key_set() -> frozenset[str]:
    return frozenset(_state_names())


@lru_cache(maxsize=1)
def _state_values() -> Any:
    """Every field's value of a state, in field order, in one C call."""
    return attrgetter(*_state_names())

