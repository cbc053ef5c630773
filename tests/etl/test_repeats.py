"""Repeated hash keys found by sorting equal DuckDB's GROUP BY ... HAVING COUNT(*) > 1."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from fraudpipe.etl.repeats import materialise_repeated

SQL = ("SELECT hash(trans_num) AS id_hash\nFROM raw_rows\nWHERE trans_num IS NOT NULL\n"
       "GROUP BY hash(trans_num)\nHAVING COUNT(*) > 1")


def test_repeated_keys_equal_the_grouping() -> None:
    ids = [f"id{i % 7}" if i % 3 == 0 else f"u{i}" for i in range(200)] + [None, None]
    con = duckdb.connect()
    con.register("raw_rows", pa.table({"trans_num": ids}))
    expected = sorted(r[0] for r in con.sql(SQL).fetchall())
    assert len(expected) == 7
    assert materialise_repeated(con, "repeated_hashes", SQL)
    assert sorted(r[0] for r in con.sql("SELECT id_hash FROM repeated_hashes").fetchall()) == (
        expected)


def test_other_shapes_are_left_to_duckdb() -> None:
    con = duckdb.connect()
    con.register("raw_rows", pa.table({"trans_num": ["a", "a"]}))
    assert not materialise_repeated(con, "x", SQL.replace("> 1", "> 2"))
    assert not materialise_repeated(con, "x", SQL.replace("GROUP BY hash(trans_num)",
                                                          "GROUP BY hash(other)"))
    assert not materialise_repeated(con, "x", "SELECT trans_num FROM raw_rows")
