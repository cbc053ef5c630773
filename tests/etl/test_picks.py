"""The batch picks drawn in numpy are the rows DuckDB's two top-N queries return."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from fraudpipe.etl.picks import sample_picks
from glue.etl_job import load_statements, render

PICKS = next(s.sql for s in load_statements() if s.name == "batch_picks")


def _routed(rows: int, seed: int) -> pa.Table:
    """A routed-like table: two files, routes and labels (some NULL), increasing keys."""
    rng = np.random.default_rng(seed)
    routes = rng.choice(["test", "training", "quarantine", None], rows, p=[.6, .2, .1, .1])
    labels = rng.choice(["fraud", "legit", None], rows, p=[.1, .8, .1])
    stamps = pa.array(np.arange(rows) * 1_000_000, pa.timestamp("us"))
    return pa.table({
        "file_order": pa.array(np.repeat([0, 1], [rows // 2, rows - rows // 2]), pa.int32()),
        "row_number": pa.array(np.r_[1:rows // 2 + 1, 1:rows - rows // 2 + 1], pa.int64()),
        "event_ts": stamps, "EVENT_TIMESTAMP": pa.array([f"t{i}" for i in range(rows)]),
        "route": pa.array(routes.tolist()), "event_label": pa.array(labels.tolist())})


def _sql(seed: int, fraud: int, legit: int) -> str:
    return render(PICKS, {"batch_seed": str(seed), "fraud_samples": str(fraud),
                          "legit_samples": str(legit)})


@pytest.mark.parametrize(("seed", "fraud", "legit"),
                         [(42, 12, 130), (0, 3, 0), (999_999, 10_000, 7), (7, 0, 10_000)])
def test_picks_equal_duckdb_top_n(seed: int, fraud: int, legit: int) -> None:
    # GIVEN a routed table with NULL routes and labels, and limits below and above the counts
    routed = _routed(3000, seed)
    sql = _sql(seed, fraud, legit)
    # WHEN the picks are drawn in numpy and by DuckDB
    drawn = sample_picks(sql, {"routed": routed})
    con = duckdb.connect()
    con.register("routed", routed)
    expected = con.sql(sql).to_arrow_table()
    # THEN the same rows come out, with the same types, fraud picks before legit ones
    assert drawn is not None
    assert drawn.schema == expected.schema
    assert drawn.to_pylist() == expected.to_pylist()


@pytest.mark.parametrize("modulus", [7, 1])
def test_picks_break_ties_of_the_hash_as_duckdb(modulus: int) -> None:
    # GIVEN a hash with few values, so the limit falls inside a run of equal hashes
    routed = _routed(2000, 3)
    sql = _sql(3, 5, 40).replace("% 4294967291", f"% {modulus}")
    assert f"% {modulus}" in sql
    # WHEN drawn in numpy and by DuckDB THEN ties are broken by file_order, row_number alike
    drawn = sample_picks(sql, {"routed": routed})
    con = duckdb.connect()
    con.register("routed", routed)
    assert drawn is not None
    assert drawn.to_pylist() == con.sql(sql).to_arrow_table().to_pylist()


def test_picks_decline_what_they_do_not_recognise() -> None:
    routed = _routed(50, 1)
    negative = routed.set_column(1, "row_number", pa.array(np.arange(-25, 25), pa.int64()))
    assert sample_picks(_sql(1, 2, 2), {"routed": negative}) is None  # SQL's remainder sign
    assert sample_picks(_sql(1, 2, 2), {"other": routed}) is None  # not a known table
    assert sample_picks(_sql(1, 2, 2).replace("LIMIT", "OFFSET 1 LIMIT"),
                        {"routed": routed}) is None
    assert sample_picks("SELECT * FROM routed", {"routed": routed}) is None
