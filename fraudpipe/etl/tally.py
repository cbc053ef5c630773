"""Count the routing table's rows per group from runs of equal values, not a hash aggregate.

Why: ``counts`` and ``reasons`` in glue/etl.sql are ``SELECT <keys>, COUNT(*) AS n,
SUM(CASE WHEN route IN (...) THEN 1 ELSE 0 END) AS m, ... FROM routed [WHERE x IS NOT NULL]
GROUP BY <keys>``. DuckDB hashed the 1.86M ``source_file`` strings of the routing table for
them (~0.1 CPU s), yet that table is kept in raw-row order (``fraudpipe.etl.order``), where
``source_file``, ``route`` and ``reason`` hold long runs of one value (a file's rows, its
training or test rows, its valid rows' NULL reason). Arrow's run-end encoding finds those runs
in one pass per column; where the columns' runs meet are segments of rows alike in every
column read, and each segment adds its length to its group's counts. Only that shape is
counted here, with SQL's meaning (a NULL key is a group of its own, a NULL never equals a
value, ``WHERE x IS NOT NULL`` drops rows before grouping); other statements, tables not
kept in order, or columns with too many runs return None and run in DuckDB as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudpipe.etl.scan import split_items

__all__ = ["tally"]

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<items>.+?)\s+FROM\s+(?P<table>\w+)\s+"
    r"(?:WHERE\s+(?P<present>\w+)\s+IS\s+NOT\s+NULL\s+)?"
    r"GROUP\s+BY\s+(?P<keys>\w+(?:\s*,\s*\w+)*)\s*$", re.IGNORECASE | re.DOTALL)
_KEY = re.compile(r"^(?P<column>\w+)$")
_COUNT = re.compile(r"^COUNT\(\s*\*\s*\)\s+AS\s+(?P<name>\w+)$", re.IGNORECASE)
_SUM = re.compile(
    r"^SUM\(\s*CASE\s+WHEN\s+(?P<column>\w+)\s+(?:=\s*'(?P<one>[^']*)'|IN\s*\("
    r"(?P<many>\s*'[^']*'(?:\s*,\s*'[^']*')*\s*)\))\s+THEN\s+1\s+ELSE\s+0\s+END\s*\)\s+"
    r"AS\s+(?P<name>\w+)$", re.IGNORECASE)
_MOST_SEGMENTS = 100_000  # more than this is a hash aggregate's job


@dataclass(frozen=True)
class _Item:
    """One select item: a key column, ``COUNT(*)``, or a sum of a column's membership."""

    name: str
    kind: str  # "key", "count" or "sum"
    column: str | None = None
    values: frozenset[str] = frozenset()


def _items(parts: list[str]) -> list[_Item] | None:
    items = []
    for item in (part for part in parts if part):
        key, count, total = _KEY.match(item), _COUNT.match(item), _SUM.match(item)
        if key:
            items.append(_Item(key["column"], "key", key["column"]))
        elif count:
            items.append(_Item(count["name"], "count"))
        elif total:
            words = [total["one"]] if total["one"] is not None else re.findall(
                r"'([^']*)'", total["many"])
            items.append(_Item(total["name"], "sum", total["column"], frozenset(words)))
        else:
            return None
    return items


def tally(sql: str, tables: dict[str, pa.Table]) -> pa.Table | None:
    """The result of the group-by ``sql`` counted over runs, or None to run it in DuckDB."""
    query = _QUERY.match(sql)
    items = None if query is None else _items(split_items(query["items"]))
    if query is None or items is None or query["table"] not in tables:
        return None
    table = tables[query["table"]]
    keys = [k.strip() for k in query["keys"].split(",")]
    if [i.column for i in items if i.kind == "key"] != keys:
        return None  # the select's plain columns must be exactly the grouping
    read = sorted({*keys, *(i.column for i in items if i.kind == "sum"),
                   *([query["present"]] if query["present"] else [])})
    if not set(read) <= set(table.column_names):
        return None
    if query["present"] and table.column(query["present"]).null_count > table.num_rows // 2:
        # mostly NULL (the valid rows' reason): keep the few other rows before finding runs
        table = table.select(read).filter(pc.is_valid(table.column(query["present"])))
    segments = _segments(table, read)
    if segments is None:
        return None
    lengths, values = segments
    groups: dict[tuple[Any, ...], list[int]] = {}
    sums = [i for i in items if i.kind == "sum"]
    for s, length in enumerate(lengths):
        row = {name: values[name][s] for name in read}
        if query["present"] and row[query["present"]] is None:
            continue
        counts = groups.setdefault(tuple(row[k] for k in keys), [0] * (1 + len(sums)))
        counts[0] += length
        for j, item in enumerate(sums, start=1):
            if row[item.column] in item.values:
                counts[j] += length
    return _result(items, keys, groups, table)


def _segments(table: pa.Table, columns: list[str]
              ) -> tuple[list[int], dict[str, list[Any]]] | None:
    """Lengths of the stretches of rows alike in every column, and each column's value there."""
    n = table.num_rows
    ends: dict[str, np.ndarray] = {}
    firsts: dict[str, list[Any]] = {}
    for name in columns:
        encoded = pc.run_end_encode(table.column(name))
        chunk_ends, values, offset = [], [], 0
        for chunk in encoded.chunks:
            first, count = chunk.find_physical_offset(), chunk.find_physical_length()
            run_ends = chunk.run_ends.to_numpy()[first:first + count].astype(np.int64)
            chunk_ends.append(np.minimum(run_ends - chunk.offset, len(chunk)) + offset)
            values.append(chunk.values.slice(first, count))
            offset += len(chunk)
        ends[name] = np.concatenate(chunk_ends) if chunk_ends else np.zeros(0, np.int64)
        if len(ends[name]) > _MOST_SEGMENTS:
            return None
        firsts[name] = (pa.concat_arrays(values).to_pylist() if values else [])
    cuts = np.unique(np.concatenate([np.zeros(0, np.int64), *ends.values()]))
    if len(cuts) > _MOST_SEGMENTS or (len(cuts) and int(cuts[-1]) != n):
        return None
    starts = np.concatenate(([0], cuts[:-1])) if len(cuts) else np.zeros(0, np.int64)
    values = {name: [firsts[name][i] for i in
                     np.searchsorted(ends[name], starts, side="right").tolist()]
              for name in columns}
    return np.diff(np.concatenate(([0], cuts))).tolist(), values


def _result(items: list[_Item], keys: list[str], groups: dict[tuple[Any, ...], list[int]],
            table: pa.Table) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    sums = [i for i in items if i.kind == "sum"]
    for item in items:
        if item.kind == "key":
            where = keys.index(item.name)
            columns[item.name] = pa.array([g[where] for g in groups],
                                          table.schema.field(item.name).type)
        else:
            where = 0 if item.kind == "count" else 1 + sums.index(item)
            columns[item.name] = pa.array([c[where] for c in groups.values()], pa.int64())
    return pa.table(columns)
