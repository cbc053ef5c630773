"""Routed rows kept in raw-row order; an ORDER BY is dropped only when the rows satisfy it."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from fraudpipe.etl.order import drop_satisfied_order, in_position_order, materialise_in_order
from tests.etl.helpers import make_raw, read, run

SQL = ('SELECT k.EVENT_TIMESTAMP AS "__c0", k.row_number AS "__pos" FROM routed AS k '
       "WHERE k.route = 'training' ORDER BY k.event_ts, k.file_order, k.row_number")


def _routed(stamps: list[int], routes: list[str]) -> pa.Table:
    n = len(stamps)
    return pa.table({"file_order": [0] * n, "row_number": list(range(1, n + 1)),
                     "event_ts": pa.array(stamps, pa.timestamp("us")),
                     "EVENT_TIMESTAMP": [str(s) for s in stamps], "route": routes})


def test_order_dropped_only_when_the_chosen_rows_are_in_time_order() -> None:
    # only the training rows count: the test row out of order does not matter
    sorted_rows = _routed([1, 2, 2, 9, 3], ["training"] * 4 + ["test"])
    narrow = drop_satisfied_order(SQL, {"routed": sorted_rows})
    assert "ORDER BY" not in narrow and narrow.endswith("WHERE k.route = 'training'")
    unsorted_rows = _routed([1, 3, 2], ["training"] * 3)
    assert drop_satisfied_order(SQL, {"routed": unsorted_rows}) == SQL
    assert drop_satisfied_order(SQL, {}) == SQL  # not a relation kept in order
    # ordering by the raw-row keys alone is the kept table's own order, checked or not
    by_keys = SQL.replace("k.event_ts, ", "")
    assert "ORDER BY" not in drop_satisfied_order(by_keys, {"routed": unsorted_rows})
    other = SQL.replace("k.event_ts, k.file_order", "k.file_order DESC")
    assert drop_satisfied_order(other, {"routed": sorted_rows}) == other


def test_materialised_rows_come_back_in_raw_row_order() -> None:
    con = duckdb.connect()
    shuffled = pa.table({"file_order": [1, 0, 1, 0], "row_number": [2, 2, 1, 1],
                         "v": ["d", "b", "c", "a"]})
    con.register("source", shuffled)
    table, _ = (materialise_in_order(con, "kept", "SELECT * FROM source", {0: 0, 1: 2})
                or (None, None))
    assert table is not None and table.column("v").to_pylist() == ["a", "b", "c", "d"]
    assert [r[0] for r in con.sql("SELECT v FROM kept").fetchall()] == ["a", "b", "c", "d"]
    # without the row keys: registered as it came, but not known to be in any order
    assert materialise_in_order(con, "x", "SELECT v FROM source", {0: 0, 1: 2}) is None
    assert con.sql("SELECT count(*) FROM x").fetchall() == [(4,)]


def test_rows_out_of_time_order_are_still_sorted(tmp_path: Path) -> None:
    # GIVEN the same raw rows, once in time order and once with the train file shuffled
    ordered, shuffled = tmp_path / "ordered", tmp_path / "shuffled"
    make_raw(ordered)
    make_raw(shuffled)
    lines = (shuffled / "fraudTrain.csv").read_text().splitlines(keepends=True)
    body = lines[1:]
    random.Random(3).shuffle(body)
    (shuffled / "fraudTrain.csv").write_text(lines[0] + "".join(body))
    # WHEN both are transformed
    _, a = run(ordered, tmp_path / "a")
    _, b = run(shuffled, tmp_path / "b")
    # THEN the training files hold the same rows in the same (time) order
    first, second = read(a["training"]), read(b["training"])
    assert second["EVENT_TIMESTAMP"].is_monotonic_increasing
    assert sorted(first.values.tolist()) == sorted(second.values.tolist())
    assert first["EVENT_TIMESTAMP"].tolist() == second["EVENT_TIMESTAMP"].tolist()
    assert a["test"].read_bytes() == b["test"].read_bytes()


@pytest.mark.parametrize("positions", [
    [5, 6, 7, 0, 1, 2, 3, 4, 8, 9],  # shuffled runs: put in order by slices
    [0, 2, 4, 1, 3, 5],              # interleaving runs: sorted by one take
    [3, 1, 3, 0, 1],                 # repeated positions: a stable sort
    [4, 3, 2, 1, 0],                 # every row its own run
    [0, 1, 2], [7], [],
])
def test_rows_sorted_by_position_as_a_stable_argsort(positions: list[int]) -> None:
    table = pa.table({"p": pa.array(positions, pa.int64()),
                      "i": list(range(len(positions)))})
    ordered, in_order = in_position_order(table, np.asarray(positions, np.int64))
    expected = table.take(pa.array(np.argsort(np.asarray(positions, np.int64), kind="stable"),
                                   pa.int64()))
    assert ordered.to_pydict() == expected.to_pydict()
    assert in_order.tolist() == sorted(positions)  # the rows' positions, in their new order
