"""Counts over runs of equal values equal DuckDB's GROUP BY, and other shapes are declined."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from fraudpipe.etl import tally as tally_module
from fraudpipe.etl.tally import tally
from glue.etl_job import load_statements

STATEMENTS = {s.name: s.sql for s in load_statements() if s.name in ("counts", "reasons")}


def _routed(rows: int, seed: int, run: int) -> pa.Table:
    """A routed-like table: values repeat in runs of about ``run`` rows, some NULL, in chunks."""
    rng = np.random.default_rng(seed)

    def column(choices: list[str | None]) -> list[str | None]:
        picks = rng.integers(0, len(choices), rows // run + 1)
        return [choices[i] for i in np.repeat(picks, run)[:rows]]

    table = pa.table({
        "source_file": column(["a.csv", "b.csv", None]),
        "route": column(["training", "test", "quarantine", "dropped", None]),
        "reason": column([None, None, "negative amount", "duplicate trans_num"]),
    })
    cut = rows // 3  # several chunks, one of them empty
    return pa.concat_tables([table.slice(0, cut), table.slice(cut, 0), table.slice(cut)])


def _duckdb(sql: str, table: pa.Table) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.register("routed", table)
    return sorted(con.sql(sql).fetchall(), key=repr)


@pytest.mark.parametrize("name", ["counts", "reasons"])
@pytest.mark.parametrize(("rows", "run"), [(0, 1), (1, 1), (500, 1), (5000, 37), (999, 1000)])
def test_tally_equals_duckdb_group_by(name: str, rows: int, run: int) -> None:
    # GIVEN a table with NULL keys and values, long and short runs, several chunks
    table = _routed(rows, rows + run, run)
    # WHEN counted over runs and by DuckDB THEN the groups and counts are the same
    counted = tally(STATEMENTS[name], {"routed": table})
    assert counted is not None
    rows_counted = sorted((tuple(row.values()) for row in counted.to_pylist()), key=repr)
    assert rows_counted == _duckdb(STATEMENTS[name], table)


def test_tally_columns_are_the_statement_s() -> None:
    table = _routed(100, 1, 5)
    counted = tally(STATEMENTS["counts"], {"routed": table})
    assert counted is not None
    assert counted.column_names == ["source_file", "rows_in", "rows_out", "quarantined",
                                    "dropped_by_cutoff"]


def test_tally_declines_other_shapes_and_too_many_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _routed(300, 2, 1)
    counts = STATEMENTS["counts"]
    assert tally(counts, {"other": table}) is None  # not a table it holds
    assert tally(counts.replace("COUNT(*)", "COUNT(route)"), {"routed": table}) is None
    assert tally(counts.replace("THEN 1 ELSE 0", "THEN 2 ELSE 0"), {"routed": table}) is None
    assert tally(counts.replace("GROUP BY source_file", "GROUP BY route"),
                 {"routed": table}) is None
    assert tally(STATEMENTS["reasons"].replace("IS NOT NULL", "IS NULL"),
                 {"routed": table}) is None
    assert tally(counts.replace("route IN", "missing IN"), {"routed": table}) is None
    monkeypatch.setattr(tally_module, "_MOST_SEGMENTS", 10)
    assert tally(counts, {"routed": table}) is None


def test_tally_of_a_mostly_null_reason_equals_duckdb() -> None:
    # GIVEN a reason that is NULL but for a few scattered rows (the common case)
    table = _routed(3000, 4, 50)
    reasons = [None] * 3000
    for i, text in ((5, "negative amount"), (6, "negative amount"), (2999, "x"), (1200, "x")):
        reasons[i] = text
    table = table.set_column(2, "reason", pa.array(reasons, pa.string()))
    # WHEN counted THEN as DuckDB counts them
    counted = tally(STATEMENTS["reasons"], {"routed": table})
    assert counted is not None
    assert sorted((tuple(row.values()) for row in counted.to_pylist()), key=repr) == _duckdb(
        STATEMENTS["reasons"], table)
