"""Rebuild the routing table's ``source_file`` from ``file_order`` instead of exporting it.

Why: ``routed`` in glue/etl.sql carries each row's ``source_file`` (the raw file's name, the
same for every row of a file). DuckDB exporting 1.86M copies of a 13-byte name to Arrow cost
~0.25 CPU s of the statement. Here the statement asks instead whether each row's
``source_file`` is the name the runner gave that ``file_order`` in ``raw_rows``
(``__source_same``, a boolean, cheap to export); only when it is for every row is the column
rebuilt from ``file_order`` with Arrow, at the same place and with the same type. Otherwise
(or for any other shape) the statement runs as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudpipe.etl.order import all_known
from fraudpipe.etl.scan import constant_strings
from glue.etl_job import string_literal

__all__ = ["SAME", "SourceSplit", "restore_source", "split_source"]

SAME = "__source_same"


@dataclass(frozen=True)
class SourceSplit:
    """The statement asking ``__source_same`` in place of ``source_file``."""

    sql: str
    names: dict[int, str]


def split_source(sql: str, names: dict[int, str]) -> SourceSplit | None:
    """Replace the select item ``x.source_file`` (with ``x.file_order`` also selected) by the
    check ``__source_same``; None for any other shape or without file names."""
    head = re.match(r"^\s*SELECT\s(?P<items>[^()]*?)\sFROM\s", sql, re.IGNORECASE | re.DOTALL)
    if head is None or not names:
        return None
    items = head["items"]
    found = [m for m in re.finditer(r"(?:^|,)\s*(\w+)\.source_file\s*(?=,|$)", items)
             if items[:m.start()].count("'") % 2 == 0]
    if len(found) != 1:
        return None
    alias = found[0].group(1)
    if not re.search(rf"(?:^|,)\s*{alias}\.file_order\s*(?=,|$)", items):
        return None
    cases = " ".join(f"WHEN {order} THEN {string_literal(name)}"
                     for order, name in sorted(names.items()))
    check = (f"({alias}.source_file IS NOT DISTINCT FROM (CASE {alias}.file_order {cases} END))"
             f" AS {SAME}")
    start = head.start("items") + found[0].start(1)
    end = head.start("items") + found[0].end()
    return SourceSplit(sql[:start] + check + sql[end:], names)


def restore_source(table: pa.Table, split: SourceSplit) -> pa.Table | None:
    """``table`` with ``__source_same`` replaced by ``source_file``; None unless every row's
    name was the one of its ``file_order``."""
    if SAME not in table.column_names or "file_order" not in table.column_names:
        return None
    same = table.column(SAME)
    if same.null_count or (len(same) and not pc.all(same).as_py()):
        return None
    orders = table.column("file_order")
    if orders.null_count:
        return None
    order = orders.to_numpy() if len(orders) else np.zeros(0, np.int64)
    if not all_known(order, split.names):
        return None
    return table.set_column(table.column_names.index(SAME), "source_file",
                            _names(order, split.names))


def _names(order: np.ndarray, names: dict[int, str]) -> pa.ChunkedArray:
    """The name of each row's file order. Rows in raw-row order are one run per file: each
    run is built as one string repeated (no per-row lookup)."""
    if not len(order):
        return pa.chunked_array([], pa.string())
    cuts = np.flatnonzero(order[1:] != order[:-1]) + 1
    widest = max(len(name.encode("utf-8")) for name in names.values())
    if len(cuts) < 64 and len(order) * widest < 2**31:  # (what one string array holds)
        bounds = [0, *cuts.tolist(), len(order)]
        return pa.chunked_array([constant_strings(names[int(order[a])], b - a)
                                 for a, b in pairwise(bounds)], pa.string())
    lookup = pa.array([names.get(i, "") for i in range(max(names) + 1)], pa.string())
    return pa.chunked_array([lookup.take(pa.array(order))])
