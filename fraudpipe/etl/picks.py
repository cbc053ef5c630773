"""Draw the batch sample's picks with numpy instead of two top-N queries in DuckDB.

Why: ``batch_picks`` in glue/etl.sql is two ``SELECT ... FROM routed WHERE route = 'test' AND
event_label = '<label>' ORDER BY (<integer hash of the row's keys and the seed>),
file_order, row_number LIMIT n`` joined by ``UNION ALL``. For 142 picks DuckDB converted
the route and label strings of every routed row and carried each candidate's
``EVENT_TIMESTAMP`` through its top-N (~0.4 CPU s on 1.86M rows). The same integer
arithmetic over the routed Arrow table's key columns, a lexicographic sort of the candidates
and a ``take`` of the few rows chosen give the same rows; they are registered in DuckDB
under the statement's name, so the batch file is still chosen, ordered and written by the
SQL that follows. Only that exact shape is drawn here, and only when no value is NULL or
negative and the arithmetic cannot overflow a 64-bit integer (where SQL's and numpy's
integer results are the same); anything else returns None and runs in DuckDB as written.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from fraudpipe.etl.late import equal_mask, gather

__all__ = ["sample_picks"]

_PART = re.compile(
    r"^\s*SELECT\s+(?P<outer>\w+(?:\s*,\s*\w+)*)\s+FROM\s*\(\s*"
    r"SELECT\s+(?P<inner>\w+(?:\s*,\s*\w+)*)\s+FROM\s+(?P<table>\w+)\s+"
    r"WHERE\s+route\s*=\s*'(?P<route>[^']*)'\s+AND\s+event_label\s*=\s*'(?P<label>[^']*)'\s+"
    r"ORDER\s+BY\s+\(\s*row_number\s*\*\s*(?P<a>\d+)\s*\+\s*file_order\s*\*\s*(?P<b>\d+)\s*"
    r"\+\s*(?P<seed>\d+)\s*\*\s*(?P<c>\d+)\s*\)\s*%\s*(?P<m>\d+)\s*,\s*file_order\s*,"
    r"\s*row_number\s+LIMIT\s+(?P<limit>\d+)\s*\)\s*AS\s+\w+\s*$", re.IGNORECASE)
_INT64_MAX = 2**63 - 1
_KEYS = ("file_order", "row_number")


def _columns(text: str) -> list[str]:
    return [name.strip() for name in text.split(",")]


def sample_picks(sql: str, tables: dict[str, pa.Table]) -> pa.Table | None:
    """The rows of ``sql`` (top-N parts joined by UNION ALL) drawn with numpy, or None."""
    parts = [_PART.match(part) for part in re.split(r"\s+UNION\s+ALL\s+", sql.strip(), flags=re.I)]
    if not parts or any(part is None for part in parts):
        return None
    chosen: list[pa.Table] = []
    masks: dict[tuple[str, str, str], np.ndarray] = {}  # (table, column, value) -> rows equal
    for part in parts:
        columns = _columns(part["outer"])
        table = tables.get(part["table"])
        if table is None or columns != _columns(part["inner"]) or not set(
                [*columns, *_KEYS, "route", "event_label"]) <= set(table.column_names):
            return None
        for column in ("route", "event_label"):
            key = (part["table"], column, part[column if column == "route" else "label"])
            if key not in masks:  # the parts share the route: its rows are found once
                masks[key] = equal_mask(table.column(column), key[2])
        on_both = masks[(part["table"], "route", part["route"])] & masks[
            (part["table"], "event_label", part["label"])]
        rows = _top(table, part, np.flatnonzero(on_both))
        if rows is None:
            return None
        # a few rows: sliced from their chunks (a take over a column of hundreds of chunks
        # would first concatenate it)
        chosen.append(pa.table([gather(table.column(c), rows) for c in columns], names=columns))
    return pa.concat_tables(chosen).combine_chunks()


def _top(table: pa.Table, part: re.Match[str], rows: np.ndarray) -> np.ndarray | None:
    """Positions of the ``limit`` candidates ``rows`` with the smallest (hash, file_order,
    row_number).

    Only the candidates whose hash is at most the ``limit``-th smallest hash can be among
    them, so those (the limit and any ties) are found by a partition and only they sorted.
    """
    keys = [table.column(name) for name in _KEYS]
    if any(key.null_count for key in keys):
        keys = [key.take(pa.array(rows, pa.int64())) for key in keys]
        if any(key.null_count for key in keys):
            return None
        order, number = (key.to_numpy().astype(np.int64) if len(rows) else np.zeros(0, np.int64)
                         for key in keys)
    else:
        order, number = (key.to_numpy()[rows].astype(np.int64) if len(rows)
                         else np.zeros(0, np.int64) for key in keys)
    a, b, seed, c, m = (int(part[name]) for name in ("a", "b", "seed", "c", "m"))
    largest = (int(number.max()) * a + int(order.max()) * b if len(rows) else 0) + seed * c
    negative = bool(len(rows)) and (order.min() < 0 or number.min() < 0)
    if m == 0 or negative or max(a, b, seed, c, m, largest) > _INT64_MAX:
        return None  # SQL's remainder of a negative, or an overflow: leave it to the engine
    value = (number * a + order * b + seed * c) % m
    limit = int(part["limit"])
    if 0 < limit < len(value):  # only the candidates up to the limit-th smallest hash
        near = np.flatnonzero(value <= np.partition(value, limit - 1)[limit - 1])
        rows, order, number, value = rows[near], order[near], number[near], value[near]
    return rows[np.lexsort((number, order, value))[:limit]]
