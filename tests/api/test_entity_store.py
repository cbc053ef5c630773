"""The realtime entity store: state round trip, versioned writes, writers in parallel processes,
and the move of rows from the older table layout."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

from fraudpipe.engine.entities import CardState, EntityStore, decode_state, encode_state

CARD = "0f3a9c"


def _state() -> CardState:
    state = CardState(older_count=3, older_sum=12_345, older_sumsq=99)
    state.add(1_600_000_000, 1_250)
    state.add(1_600_000_600, 990)
    return state


def test_a_state_survives_the_round_trip_nans_included():
    state = _state()
    again = decode_state(encode_state(state))
    assert encode_state(again) == encode_state(state)
    assert again.recent == [(1_600_000_000, 1_250), (1_600_000_600, 990)]
    assert CardState().last_ts != CardState().last_ts  # NaN stays NaN
    assert decode_state(encode_state(CardState())).last_ts != 0


def test_a_write_applies_only_on_the_version_that_was_read(tmp_path):
    store = EntityStore(tmp_path / "store.sqlite")
    try:
        assert store.read(CARD) is None
        assert store.write(CARD, _state(), 0)  # a new card
        assert not store.write(CARD, CardState(), 0)  # someone else created it first
        stored = store.read(CARD)
        assert stored is not None and stored.version == 1
        assert stored.state.older_count == 3
        stored.state.add(1_600_001_000, 500)
        assert store.write(CARD, stored.state, 1)
        assert not store.write(CARD, CardState(), 1)  # stale: the row is at version 2 now
        final = store.read(CARD)
        assert final is not None and final.version == 2 and len(final.state.recent) == 3
    finally:
        store.close()


def _record_events(path: str, first_ts: int, count: int) -> None:
    """Add ``count`` events to one card the way realtime scoring does (read, add, write)."""
    store = EntityStore(Path(path))
    try:
        for i in range(count):
            while True:
                stored = store.read(CARD)
                state = stored.state if stored else CardState()
                state.add(first_ts + 2 * i, 100)
                if store.write(CARD, state, stored.version if stored else 0):
                    break
    finally:
        store.close()


def test_writers_in_two_processes_lose_no_event_of_a_card(tmp_path):
    path = str(tmp_path / "store.sqlite")
    ctx = multiprocessing.get_context("fork")  # the store is opened in the child
    workers = [ctx.Process(target=_record_events, args=(path, start, 150))
               for start in (1_600_000_000, 1_600_000_001)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = EntityStore(Path(path))
    try:
        stored = store.read(CARD)
    finally:
        store.close()
    assert stored is not None and stored.version == 300
    assert len(stored.state.recent) == 300
    assert [t for t, _ in stored.state.recent] == sorted(t for t, _ in stored.state.recent)


def test_rows_of_the_older_layout_are_moved(tmp_path):
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE cards (key TEXT PRIMARY KEY, older_count INTEGER, older_sum INTEGER,"
            " last_ts REAL, last_cents REAL, recent TEXT, older_sumsq INTEGER, first_ts REAL)"
        )
        db.execute("INSERT INTO cards VALUES (?, 2, 300, 1599999000, 120, ?, 45000, NULL)",
                   (CARD, json.dumps([[1_600_000_000, 250]])))  # fmt: skip
    store = EntityStore(path)
    try:
        stored = store.read(CARD)
        tables = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master")}
    finally:
        store.close()
    assert stored is not None and stored.version == 1
    assert stored.state.older_count == 2 and stored.state.last_cents == 120
    assert stored.state.recent == [(1_600_000_000, 250)]
    assert stored.state.first_ts != stored.state.first_ts  # NULL read back as NaN
    assert "cards" not in tables


def test_integers_beyond_64_bits_come_back_exactly():
    state = CardState(older_sumsq=10**22 + 1)  # sums of squared cents of huge amounts
    assert decode_state(encode_state(state)).older_sumsq == 10**22 + 1


def test_background_checkpoints_keep_the_wal_bounded_and_lose_nothing(tmp_path, monkeypatch):
    import threading
    import time

    from fraudpipe.engine import entities

    monkeypatch.setattr(EntityStore, "CHECKPOINT_INTERVAL", 0.02)
    monkeypatch.setattr(entities, "RESTART_FRAMES", 50)
    path = tmp_path / "store.sqlite"
    store = EntityStore(path)
    # GIVEN a store checkpointing in the background (as `fraudpipe serve` runs it)
    store.checkpoint_in_background()
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    assert any(t.name == "entity-store-checkpoint" for t in threading.enumerate())
    versions: dict[str, int] = {}
    sizes = []
    # WHEN single-card commits keep coming (never a pause for a checkpoint to catch up)
    for _ in range(6):
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            key = f"card{len(versions) % 50}{sum(versions.values()) % 7}"
            assert store.write(key, _state(), versions.get(key, 0))
            versions[key] = versions.get(key, 0) + 1
            time.sleep(0.0005)
        sizes.append((tmp_path / "store.sqlite-wal").stat().st_size)
    # THEN the WAL starts again from its beginning instead of holding every commit (each
    # commit appends at least one 4 KiB page; without the restarts it held them all)
    commits = sum(versions.values())
    assert sizes[-1] < commits * 4096 / 4, (sizes, commits)
    # AND every card's last write is there for another process's connection
    other = EntityStore(path)
    for key, version in versions.items():
        found = other.read(key)
        assert found is not None and found.version == version
    other.close()
    store.close()
    assert not any(t.name == "entity-store-checkpoint" for t in threading.enumerate())


def test_a_served_engine_checkpoints_its_store_in_the_background(trained_ws, monkeypatch):
    import gc

    from fraudpipe.api.asgi import warm_up
    from fraudpipe.server import create_app

    monkeypatch.setattr(gc, "freeze", lambda: None)  # keep the test process as it was
    app = warm_up(create_app(trained_ws))
    engine = app.state.predictor.engine
    try:
        assert engine._store is not None and engine._store._checkpointer.is_alive()
    finally:
        engine.close()
