"""A narrow filter query evaluated in Arrow equals DuckDB's answer; other shapes are refused."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from fraudpipe.etl.scan import filter_scan

ROUTED = pa.table({
    "file_order": pa.array([0, 0, 1, 1, 2, 0], pa.int32()),
    "row_number": pa.array([1, 2, 1, 2, 1, 3], pa.int64()),
    "route": ["test", "training", "test", None, "test", "test"],
    "EVENT_TIMESTAMP": ["a", "b", "c", "d", None, "f"],
})
SQL = ('SELECT k.EVENT_TIMESTAMP AS "__c14", \'card\' AS "__c15", '
       '(CASE k.file_order WHEN 0 THEN 0 WHEN 1 THEN 3 END + k.row_number - 1) AS "__pos" '
       "FROM routed AS k WHERE k.route = 'test'")


def test_filter_scan_equals_duckdb() -> None:
    con = duckdb.connect()
    con.register("routed", ROUTED)
    for sql in (SQL, SQL.replace("'test'", "'training'"), SQL.replace("'test'", "'none'"),
                SQL.replace("'card'", "''")):
        expected = con.sql(sql).to_arrow_table()
        got = filter_scan(sql, {"routed": ROUTED})
        assert got is not None
        assert got.column_names == expected.column_names
        assert got.to_pylist() == expected.to_pylist()  # file order 2: NULL position
        assert [f.type for f in got.schema] == [f.type for f in expected.schema]


def test_other_queries_are_left_to_duckdb() -> None:
    tables = {"routed": ROUTED}
    assert filter_scan(SQL + " ORDER BY k.row_number", tables) is None
    assert filter_scan(SQL.replace("k.route =", "k.EVENT_TIMESTAMP ="), tables) is None
    assert filter_scan(SQL.replace("k.EVENT_TIMESTAMP", "lower(k.EVENT_TIMESTAMP)"),
                       tables) is None
    assert filter_scan(SQL.replace("k.EVENT_TIMESTAMP", "k.missing"), tables) is None
    assert filter_scan(SQL, {}) is None
