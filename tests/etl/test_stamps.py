"""EVENT_TIMESTAMP built from the raw text equals DuckDB's formatting of event_ts, or is left
to DuckDB; source_file rebuilt from file_order only when every row's name checks."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from fraudpipe.etl.sources import restore_source, split_source
from fraudpipe.etl.stamps import add_stamps, iso_stamps, split_stamp, stamps_from_parsed
from fraudpipe.etl.times import add_parsed_stamps
from glue.etl_job import load_statements

ROUTED = next(s.sql for s in load_statements() if s.name == "routed")
EXPRESSION = "concat(replace(CAST(event_ts AS STRING), ' ', 'T'), 'Z')"


def _duckdb_stamps(texts: list[str | None]) -> tuple[pa.Table, list[str | None]]:
    """A table of texts and TRY_CAST timestamps, and DuckDB's EVENT_TIMESTAMP of each row."""
    con = duckdb.connect()
    con.register("texts", pa.table({"t": pa.array(texts, pa.string())}))
    table = con.sql("SELECT t, TRY_CAST(t AS TIMESTAMP) AS event_ts FROM texts").to_arrow_table()
    con.register("rows", table)
    expected = [r[0] for r in con.sql(f"SELECT {EXPRESSION} FROM rows").fetchall()]
    return table, expected


def test_clean_text_gives_duckdb_stamps_and_z_without_a_timestamp() -> None:
    texts = ["2019-01-01 00:00:18", "2020-02-29 23:59:59", None, "yesterday",
             "1969-12-31 23:59:59", "2000-02-29 00:00:00"]
    table, expected = _duckdb_stamps(texts)
    built = iso_stamps(table.column("t"), table.column("event_ts"))
    assert built is not None
    assert built.to_pylist() == expected
    assert expected[2] == expected[3] == "Z"
    for ends in (["0001-01-01 00:00:00", "0001-03-01 01:02:03"], ["9999-12-31 12:30:00"]):
        table, expected = _duckdb_stamps(ends)
        built = iso_stamps(table.column("t"), table.column("event_ts"))
        assert built is not None and built.to_pylist() == expected


@pytest.mark.parametrize("odd", ["2019-01-01 24:00:00", "2019-01-01 00:00:18.5",
                                 "2019-1-01 00:00:18", "2019-01-01T00:00:18",
                                 " 2019-01-01 00:00:1", "2019-01-01",
                                 "0001-01-01 00:00:00"])  # a span of millennia: DuckDB
def test_text_duckdb_prints_otherwise_is_left_to_duckdb(odd: str) -> None:
    # GIVEN a text DuckDB parses but would not print back byte for byte
    table, expected = _duckdb_stamps(["2019-01-01 00:00:18", odd])
    # THEN the shortcut declines, and add_stamps still gives DuckDB's values
    assert iso_stamps(table.column("t"), table.column("event_ts")) is None
    con = duckdb.connect()
    con.register("routed", table)
    split = split_stamp(ROUTED)
    assert split is not None
    full = add_stamps(con, "routed", table, split, table.column("t"))
    assert full.column("EVENT_TIMESTAMP").to_pylist() == expected


def test_stamp_text_of_another_value_is_not_used() -> None:
    table, _ = _duckdb_stamps(["2019-01-01 00:00:18", "2019-01-01 00:00:19"])
    other = pa.chunked_array([pa.array(["2019-01-01 00:00:18", "2019-01-01 00:00:20"])])
    assert iso_stamps(other, table.column("event_ts")) is None


def test_split_stamp_only_for_its_shape() -> None:
    split = split_stamp(ROUTED)
    assert split is not None and "EVENT_TIMESTAMP" not in split.sql
    assert split_stamp(ROUTED.replace("'Z'", "'+00:00'")) is None
    assert split_stamp("SELECT * FROM routed") is None


def test_source_file_rebuilt_only_when_every_name_checks() -> None:
    split = split_source(split_stamp(ROUTED).sql, {0: "a.csv", 1: "it's.csv"})
    assert split is not None and "it''s.csv" in split.sql
    table = pa.table({"file_order": pa.array([0, 0, 1], pa.int32()),
                      "__source_same": [True, True, True], "x": [1, 2, 3]})
    restored = restore_source(table, split)
    assert restored is not None
    assert restored.column_names == ["file_order", "source_file", "x"]
    assert restored.column("source_file").to_pylist() == ["a.csv", "a.csv", "it's.csv"]
    assert restore_source(table.set_column(1, "__source_same", pa.array([True, False, True])),
                          split) is None
    assert restore_source(table.set_column(1, "__source_same", pa.array([True, None, True])),
                          split) is None
    assert split_source("SELECT k.a, k.source_file FROM t AS k", {0: "a.csv"}) is None


@pytest.mark.parametrize("orders", [[], [1], [0, 1, 1, 0, 1], list(range(2)) * 40])
def test_source_file_names_in_any_order(orders: list[int]) -> None:
    # runs of one file (one repeated string each) or rows of many runs (a lookup per row)
    split = split_source(split_stamp(ROUTED).sql, {0: "a.csv", 1: "b.csv"})
    assert split is not None
    table = pa.table({"file_order": pa.array(orders, pa.int32()),
                      "__source_same": pa.array([True] * len(orders), pa.bool_())})
    restored = restore_source(table, split)
    assert restored is not None and restored.schema.field("source_file").type == pa.string()
    assert restored.column("source_file").to_pylist() == [["a.csv", "b.csv"][o] for o in orders]


def _read_time(texts: list[str | None]) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    table = add_parsed_stamps(pa.table({"trans_date_trans_time": pa.array(texts, pa.string())}))
    return table.column("__event_ts"), table.column("__iso")


def test_stamps_from_the_read_time_parse_equal_duckdb() -> None:
    # GIVEN canonical texts and texts nobody can parse (NULL in both event_ts and the parse)
    texts = ["2019-01-01 00:00:18", None, "yesterday", "1969-12-31 23:59:59",
             "0001-01-01 00:00:00"]
    table, expected = _duckdb_stamps(texts)
    # WHEN built from the reader's parse THEN they are DuckDB's stamps
    stamps = stamps_from_parsed(table.column("event_ts"), *_read_time(texts))
    assert stamps is not None and stamps.to_pylist() == expected


def test_stamps_from_the_read_time_parse_decline_a_row_only_the_sql_parsed() -> None:
    # GIVEN a text DuckDB parses but the reader leaves alone (a 'T', a fraction)
    for odd in ("2019-01-01T00:00:18", "2019-01-01 00:00:18.5"):
        texts = ["2019-01-01 00:00:18", odd]
        table, _ = _duckdb_stamps(texts)
        assert stamps_from_parsed(table.column("event_ts"), *_read_time(texts)) is None
    # and a timestamp that is not the parse of its text
    table, _ = _duckdb_stamps(["2019-01-01 00:00:18"])
    assert stamps_from_parsed(table.column("event_ts"),
                              *_read_time(["2019-01-01 00:00:19"])) is None
