"""The runner's shortcuts (Arrow filter, dropped ORDER BY, sorted repeats, batch picks drawn
in numpy, EVENT_TIMESTAMP from the raw text, source_file from file_order, counts over runs,
timestamps parsed at read time, no trim of values with nothing to trim) change no byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fraudpipe.etl.runner as runner
import fraudpipe.etl.stamps as stamps
from tests.etl.helpers import OUTPUTS, make_raw, read, run, set_field

SHORTCUTS = {  # name -> the result that means "not applied"
    "filter_scan": None, "materialise_repeated": False, "materialise_in_order": None,
    "sample_picks": None, "split_stamp": None, "split_source": None, "restore_source": None,
    "tally": None, "with_parsed_stamps": None, "without_trims": None,
}


def _spy(monkeypatch: pytest.MonkeyPatch, applied: list[str]) -> None:
    for name, declined in SHORTCUTS.items():
        original = getattr(runner, name)

        def spy(*args: Any, _original: Any = original, _name: str = name,
                _declined: Any = declined) -> Any:
            result = _original(*args)
            if result is not _declined:
                applied.append(_name)
            return result

        monkeypatch.setattr(runner, name, spy)
    order = runner.drop_satisfied_order

    def order_spy(sql: str, ordered: Any) -> str:
        result = order(sql, ordered)
        if result != sql:
            applied.append("drop_satisfied_order")
        return result

    monkeypatch.setattr(runner, "drop_satisfied_order", order_spy)
    from_parsed = stamps.stamps_from_parsed

    def parsed_spy(*args: Any) -> Any:
        result = from_parsed(*args)
        if result is not None:
            applied.append("stamps_from_parsed")
        return result

    monkeypatch.setattr(stamps, "stamps_from_parsed", parsed_spy)


def _temp_table(con: Any, name: str, sql: str, bases: Any) -> None:
    """What a materialised statement was before: a DuckDB table, order not known."""
    con.execute(f"CREATE TEMP TABLE {name} AS {sql}")


def _without_shortcuts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut declines (``restore_source`` only follows ``split_source``), so the
    statements run as glue/etl.sql writes them."""
    for name in ("filter_scan", "sample_picks", "tally", "split_stamp", "with_parsed_stamps"):
        monkeypatch.setattr(runner, name, lambda *args: None)
    monkeypatch.setattr(runner, "split_source", lambda sql, names: None)
    monkeypatch.setattr(runner, "without_trims", lambda sql, table: None)
    monkeypatch.setattr(runner, "drop_satisfied_order", lambda sql, ordered: sql)
    monkeypatch.setattr(runner, "materialise_repeated", lambda con, name, sql: False)
    monkeypatch.setattr(runner, "materialise_in_order", _temp_table)


def test_shortcuts_give_the_files_of_the_plain_sql(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN clean files (every shortcut applies) with a duplicate id and three bad values
    raw = tmp_path / "raw"
    make_raw(raw)
    set_field(raw / "fraudTest.csv", 9, "trans_num",
              read(raw / "fraudTrain.csv").iloc[3]["trans_num"])
    set_field(raw / "fraudTrain.csv", 5, "amt", "-1")
    set_field(raw / "fraudTest.csv", 20, "is_fraud", "x")
    set_field(raw / "fraudTrain.csv", 7, "trans_date_trans_time", "yesterday")
    applied: list[str] = []
    with monkeypatch.context() as patch:
        _spy(patch, applied)
        fast_summary, fast = run(raw, tmp_path / "fast")
    assert sorted(set(applied)) == sorted([*SHORTCUTS, "drop_satisfied_order",
                                           "stamps_from_parsed"])
    # WHEN the same statements run with none of the shortcuts
    _without_shortcuts(monkeypatch)
    plain_summary, plain = run(raw, tmp_path / "plain")
    # THEN every file and count is the same
    for name in OUTPUTS:
        assert fast[name].read_bytes() == plain[name].read_bytes(), name
    assert len(read(fast["quarantine"])) == 4
    for key in ("counts", "output_rows", "quarantine_reasons", "cutoffs"):
        assert fast_summary[key] == plain_summary[key]


def test_clean_files_are_the_same_with_and_without_shortcuts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN clean files (every timestamp canonical: the stamps come from the reader threads)
    raw = tmp_path / "raw"
    make_raw(raw, customers=4, seed=9)
    applied: list[str] = []
    with monkeypatch.context() as patch:
        _spy(patch, applied)
        _, fast = run(raw, tmp_path / "fast")
    assert "stamps_from_parsed" in applied and "with_parsed_stamps" in applied
    # WHEN run with none of them THEN the files are the same
    _without_shortcuts(monkeypatch)
    _, plain = run(raw, tmp_path / "plain")
    for name in OUTPUTS:
        assert fast[name].read_bytes() == plain[name].read_bytes(), name
