"""Timestamps parsed at read time equal the SQL's TRY_CAST wherever they are not NULL."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from fraudpipe.etl import times
from fraudpipe.etl.times import parse_stamps, with_parsed_stamps
from glue.etl_job import load_statements

ODD = [
    "2019-01-01 00:00:18", "2020-02-29 23:59:59", "2019-02-29 10:00:00", "1900-02-29 00:00:00",
    "2000-02-29 12:30:45", "0001-01-01 00:00:00", "9999-12-31 23:59:59", "0000-01-01 00:00:00",
    "2019-01-01 24:00:00", "2019-01-01 23:60:00", "2019-01-01 23:59:60", "2019-13-01 00:00:00",
    "2019-00-10 00:00:00", "2019-01-00 00:00:00", "2019-04-31 00:00:00", "2019-01-01T00:00:18",
    "2019-01-01 00:00:18.5", "2019-1-01 00:00:18", "20190101 00:00:18", "2019-01-01 0:00:18",
    " 2019-01-01 00:00:1", "2019/01/01 00:00:18", "2019-01-01 00:0a:18", "yesterday", "", None,
    "2019-W01-1 00:00:00", "+019-01-01 00:00:00", "2019-01-01 00:00:18 ",
]


def _cast(values: list[str | None]) -> list[object]:
    con = duckdb.connect()
    con.register("t", pa.table({"s": pa.array(values, pa.string())}))
    return [r[0] for r in con.sql("SELECT TRY_CAST(s AS TIMESTAMP) FROM t").fetchall()]


def _check(values: list[str | None]) -> pa.Array:
    parsed = parse_stamps(pa.chunked_array([pa.array(values, pa.string())]))
    expected = _cast(values)
    for value, mine, sql in zip(values, parsed.to_pylist(), expected, strict=True):
        assert mine is None or mine == sql, value  # NULL: the SQL's cast decides
    return parsed


def test_odd_values_are_left_to_the_sql_and_canonical_ones_equal_it() -> None:
    parsed = _check(ODD)
    canonical = {"2019-01-01 00:00:18", "2020-02-29 23:59:59", "2000-02-29 12:30:45",
                 "0001-01-01 00:00:00", "9999-12-31 23:59:59"}
    assert {v for v, p in zip(ODD, parsed.to_pylist(), strict=True) if p} == canonical


def test_random_canonical_timestamps_equal_the_sql() -> None:
    rng = np.random.default_rng(7)
    seconds = np.sort(rng.integers(0, 315_537_897_599, 3000))  # years 1 - 9999, in order
    values = [(datetime(1, 1, 1) + timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S")
              for s in seconds]
    values = [v.rjust(19, "0") for v in values]  # %Y does not pad years below 1000
    parsed = _check(values)
    assert parsed.null_count == 0


def test_a_piece_whose_dates_change_too_often_is_left_to_the_sql(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(times, "_MOST_DATES", 3)
    values = [f"2019-01-0{d} 00:00:00" for d in range(1, 8)]
    assert parse_stamps(pa.chunked_array([pa.array(values)])).null_count == len(values)


def test_casts_over_raw_rows_alone_are_rewritten() -> None:
    statements = {s.name: s.sql for s in load_statements()}
    parsed = with_parsed_stamps(statements["parsed"])
    assert parsed is not None and ("COALESCE(r.__event_ts, TRY_CAST(r.trans_date_trans_time "
                                   "AS TIMESTAMP))") in parsed
    start = with_parsed_stamps(statements["test_start"])
    assert start is not None and "COALESCE(__event_ts, TRY_CAST(" in start
    for name in ("classified", "routed", "training", "duplicates"):
        assert with_parsed_stamps(statements[name]) is None, name
    assert with_parsed_stamps(
        "SELECT TRY_CAST(x.trans_date_trans_time AS TIMESTAMP) FROM raw_rows AS r") is None
    assert with_parsed_stamps("SELECT TRY_CAST(trans_date_trans_time AS TIMESTAMP) FROM "
                              "raw_rows AS r JOIN other AS o ON o.k = r.k") is None
