"""Late materialisation: the narrow query, the join shortcut, and gathering by position."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from fraudpipe.etl.late import Gathering, assemble, gather, plan_late

SQL = ("SELECT r.cc_num, r.\"Unnamed: 0\", k.EVENT_TIMESTAMP, 'card' AS ENTITY_TYPE, "
       "r.cc_num AS ENTITY_ID, concat(k.a, ',', k.b) AS joined\n"
       "FROM routed AS k\n"
       "JOIN raw_rows AS r ON r.file_order = k.file_order AND r.row_number = k.row_number\n"
       "WHERE k.route = 'test'\nORDER BY k.event_ts, k.file_order, k.row_number")


class _Raw:
    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def values(self, name: str, positions: np.ndarray,
               how: Gathering | None = None) -> pa.ChunkedArray:
        return gather(self.table.column(name), positions, how)


def test_plan_keeps_computed_columns_and_asks_for_positions() -> None:
    plan = plan_late(SQL)
    assert plan is not None
    assert plan.names == ["cc_num", "Unnamed: 0", "EVENT_TIMESTAMP", "ENTITY_TYPE",
                          "ENTITY_ID", "joined"]
    assert [kind for kind, _ in plan.sources] == ["raw", "raw", "sql", "sql", "raw", "sql"]
    assert plan.sql.startswith('SELECT k.EVENT_TIMESTAMP AS "__c2", \'card\' AS "__c3", '
                               'concat(k.a, \',\', k.b) AS "__c5", r.__pos AS "__pos" FROM')
    assert "JOIN raw_rows" in plan.sql


def test_key_join_replaced_by_positions_when_files_are_in_order() -> None:
    plan = plan_late(SQL, {0: 0, 1: 1000})
    assert plan is not None
    assert "raw_rows" not in plan.sql
    assert ("(CASE k.file_order WHEN 0 THEN 0 WHEN 1 THEN 1000 END + k.row_number - 1)"
            in plan.sql)


def test_statements_it_does_not_understand_run_as_written() -> None:
    assert plan_late("SELECT count(*) FROM routed") is None
    assert plan_late("SELECT r.* FROM raw_rows AS r") is None
    assert plan_late("SELECT k.a + 1 FROM routed AS k JOIN raw_rows AS r ON r.x = k.x") is None


def test_late_result_equals_the_statement_run_in_duckdb() -> None:
    raw = pa.table({"cc_num": [f"c{i}" for i in range(10)],
                    "Unnamed: 0": [str(i) for i in range(10)],
                    "file_order": [0] * 6 + [1] * 4,
                    "row_number": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4],
                    "__pos": list(range(10))})
    routed = pa.table({"file_order": [1, 0, 0, 1, 0], "row_number": [4, 2, 3, 1, 6],
                       "event_ts": [5, 1, 1, 2, 9], "EVENT_TIMESTAMP": list("vwxyz"),
                       "a": list("abcde"), "b": list("fghij"),
                       "route": ["test", "test", "test", "test", "training"]})
    con = duckdb.connect()
    con.register("raw_rows", raw)
    con.register("routed", routed)
    expected = con.sql(SQL).to_arrow_table()
    for bases in (None, {0: 0, 1: 6}):
        plan = plan_late(SQL, bases)
        assert plan is not None
        got = assemble(plan, con.sql(plan.sql).to_arrow_table(), _Raw(raw))
        assert got.to_pylist() == expected.to_pylist()
        assert got.column_names == expected.column_names


def test_gather_is_take_whether_runs_or_scattered() -> None:
    column = pa.chunked_array([[str(i) for i in range(0, 500)], [str(i) for i in range(500, 900)]])
    runs = np.concatenate([np.arange(10, 700), np.arange(705, 890)])
    scattered = np.random.default_rng(1).permutation(900)[:300]
    for positions in (runs, scattered, np.array([], dtype=np.int64), np.array([899])):
        assert (gather(column, positions).to_pylist()
                == column.take(pa.array(positions, pa.int64())).to_pylist())
    sliced = gather(column, runs)
    assert sliced.num_chunks == 3  # the first run spans both chunks, the second is in one
