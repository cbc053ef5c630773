"""Keep the routing table in raw-row order and drop the ORDER BYs that order already satisfies.

Why: each output statement of glue/etl.sql ends ``WHERE k.route = 'training' ORDER BY
k.event_ts, k.file_order, k.row_number``. Raw files are written in time order, so for the
common input those rows already sit in that order, and sorting 1.3M rows to get the order
they have cost DuckDB more than choosing them. Here the materialised ``routed`` relation is
kept as an Arrow table in raw-row order (``file_order``, ``row_number``), which DuckDB scans
in place; and an output statement of exactly that shape loses its ORDER BY only after the
chosen rows' ``event_ts`` are checked to be non-decreasing in that order (ties then stay in
``file_order, row_number`` order, as the ORDER BY asks); the quarantine's ``ORDER BY
k.file_order, k.row_number`` is the table's order itself. A scan with a filter keeps the
table's order (``preserve_insertion_order``). Anything else runs as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import duckdb
import numpy as np
import pyarrow as pa

from fraudpipe.etl.late import gather, route_rows

__all__ = ["all_known", "base_lookup", "drop_satisfied_order", "in_position_order",
           "known_orders", "materialise_in_order", "raw_positions"]

_ROUTE_ORDER = re.compile(
    r"^\s*FROM\s+(?P<table>\w+)\s+AS\s+(?P<alias>\w+)\s+"
    r"WHERE\s+(?P=alias)\.route\s*=\s*'(?P<route>[^']*)'\s+"
    r"ORDER\s+BY\s+(?P<by_time>(?P=alias)\.event_ts\s*,\s*)?(?P=alias)\.file_order\s*,"
    r"\s*(?P=alias)\.row_number\s*$", re.IGNORECASE)
_KEYS = ("file_order", "row_number")


def materialise_in_order(con: duckdb.DuckDBPyConnection, name: str, sql: str,
                         bases: dict[int, int]) -> tuple[pa.Table, np.ndarray] | None:
    """Run ``sql`` into an Arrow table registered in DuckDB as ``name``; None if not in order.

    ``bases`` (file_order -> position of the file's first row) turns each row's keys into its
    raw position; a result with those keys is put in raw-row order and returned with each
    row's raw position. A result without them (or with a key outside the files) is
    registered as it came and None is returned: no ORDER BY can be dropped over it.
    """
    table = con.sql(sql).to_arrow_table()
    positions = raw_positions(table, bases)
    if positions is not None:
        table, positions = in_position_order(table, positions)
    con.register(name, table)
    return None if positions is None else (table, positions)


_MOST_RUNS = 4096  # more pieces than this are put in order by one take


def in_position_order(table: pa.Table, positions: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """The rows of ``table`` sorted by ``positions`` (stable), zero-copy when they are a few runs,
    and their positions in that order.

    Why: DuckDB's parallel joins hand back the routing table as a hundred or so blocks of
    consecutive raw rows, the blocks of its threads interleaved; a ``take`` of 1.86M rows to
    sort them cost ~0.12 CPU s, while putting the blocks' slices in order copies nothing.
    When the runs overlap (repeated positions) or are too many, one ``take`` sorts the rows.
    """
    if len(positions) < 2 or (positions[1:] > positions[:-1]).all():
        return table, positions
    breaks = np.flatnonzero(positions[1:] != positions[:-1] + 1) + 1  # runs of consecutive rows
    if len(breaks) < _MOST_RUNS:
        starts = np.concatenate(([0], breaks))
        stops = np.concatenate((breaks, [len(positions)]))
        order = np.argsort(positions[starts], kind="stable")
        firsts, lasts = positions[starts[order]], positions[stops[order] - 1]
        if (firsts[1:] > lasts[:-1]).all():  # runs do not interleave: their order is the sort
            runs = [(int(starts[i]), int(stops[i])) for i in order]
            return (pa.concat_tables([table.slice(a, b - a) for a, b in runs]),
                    np.concatenate([positions[a:b] for a, b in runs]))
    sort = np.argsort(positions, kind="stable")
    return table.take(pa.array(sort)), positions[sort]


def raw_positions(table: pa.Table, bases: dict[int, int]) -> np.ndarray | None:
    """Each row's position in the raw Arrow table, from its keys; None without usable keys."""
    if any(key not in table.column_names or table.column(key).null_count for key in _KEYS):
        return None
    if not table.num_rows:
        return np.zeros(0, np.int64)
    order = table.column("file_order").to_numpy()
    if not all_known(order, bases):
        return None
    return (base_lookup(bases)[order]
            + table.column("row_number").to_numpy().astype(np.int64, copy=False) - 1)


def base_lookup(bases: dict[int, int]) -> np.ndarray:
    """``bases`` as an array indexed by file order (0 for an order not in ``bases``)."""
    lookup = np.zeros(max(bases, default=0) + 1, dtype=np.int64)
    for file_order, base in bases.items():
        lookup[file_order] = base
    return lookup


def known_orders(bases: Mapping[int, object]) -> np.ndarray:
    """Which file orders (indexes) are keys of ``bases``."""
    known = np.zeros(max(bases, default=0) + 1, dtype=bool)
    known[list(bases)] = True
    return known


def all_known(order: np.ndarray, bases: Mapping[int, object]) -> bool:
    """Is every file order in ``order`` a key of ``bases``?"""
    known = known_orders(bases)
    return not len(order) or bool(order.min() >= 0 and order.max() < len(known)
                                  and known[order].all())


def drop_satisfied_order(sql: str, ordered: dict[str, pa.Table]) -> str:
    """``sql`` without its ORDER BY when the rows it picks are already in that order.

    Only ``SELECT ... FROM <t> AS k WHERE k.route = '<r>' ORDER BY [k.event_ts,] k.file_order,
    k.row_number`` over a table of ``ordered`` (in raw-row order) qualifies; without
    ``event_ts`` that order is the table's own.
    """
    cut = _top_level_from(sql)
    match = _ROUTE_ORDER.match(sql[cut:]) if cut is not None else None
    if match is None or match["table"] not in ordered:
        return sql
    if match["by_time"] and not _in_time_order(ordered, match["table"], match["route"]):
        return sql
    alias = match["alias"]
    return f"{sql[:cut]} FROM {match['table']} AS {alias} WHERE {alias}.route = '{match['route']}'"


def _in_time_order(ordered: dict[str, pa.Table], name: str, route: str) -> bool:
    """Are the ``event_ts`` of table ``name``'s rows on ``route`` non-null and non-decreasing?"""
    how = route_rows(ordered, name, route)
    stamps = gather(ordered[name].column("event_ts"), how.positions, how)
    if stamps.null_count:
        return False
    values = stamps.cast(pa.int64()).to_numpy() if len(stamps) else np.zeros(0, np.int64)
    return len(values) < 2 or bool((np.diff(values) >= 0).all())


def _top_level_from(sql: str) -> int | None:
    """Index of the one `` FROM `` of a query without subqueries after it; else None."""
    found = [m.start() for m in re.finditer(r"\sFROM\s", sql, re.IGNORECASE)]
    if len(found) != 1 or "(" in sql[found[0]:]:
        return None
    return found[0]
