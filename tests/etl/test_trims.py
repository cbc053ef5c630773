"""A trim is dropped only where DuckDB's trim would change no value."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from fraudpipe.etl.trims import without_trims
from glue.etl_job import load_statements

PARSED = next(s.sql for s in load_statements() if s.name == "parsed")


def _raw(values: list[str | None]) -> pa.Table:
    cut = len(values) // 2
    return pa.table({"is_fraud": pa.chunked_array([pa.array(values[:cut], pa.string()),
                                                   pa.array(values[cut:], pa.string())])})


@pytest.mark.parametrize("values", [["0", "1", None, "", "x", "10"], ["1"] * 5, []])
def test_trim_dropped_when_no_value_has_anything_to_trim(values: list[str | None]) -> None:
    table = _raw(values)
    rewritten = without_trims(PARSED, table)
    assert rewritten is not None and "trim(" not in rewritten and "r.is_fraud AS label_code" in \
        rewritten
    con = duckdb.connect()
    con.register("t", table)
    assert [r[0] for r in con.sql("SELECT trim(is_fraud) FROM t").fetchall()] == values


@pytest.mark.parametrize("odd", [" 1", "1 ", "\t1", "1\u00a0", "\u20031", " ", "1\n"])
def test_trim_kept_when_a_value_has_space_or_more_at_an_end(odd: str) -> None:
    assert without_trims(PARSED, _raw(["0", "1", odd, "1"])) is None


def test_other_shapes_keep_their_trims() -> None:
    table = _raw(["0", "1"])
    assert without_trims(PARSED.replace("trim(r.is_fraud)", "trim(r.other)"), table) is None
    assert without_trims("SELECT trim(r.is_fraud) FROM raw_rows AS r JOIN x AS y ON y.a = "
                         "r.is_fraud", table) is None
    assert without_trims("SELECT trim(q.is_fraud) FROM raw_rows AS r", table) is None
    assert without_trims("SELECT trim(is_fraud) FROM raw_rows", table) is None
