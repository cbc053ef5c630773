"""``SELECT hash(x) AS h FROM ... GROUP BY hash(x) HAVING COUNT(*) > 1`` without a hash table.

Why: that statement of glue/etl.sql (the first step of finding duplicate ids) groups 1.86M
8-byte keys, and DuckDB's hash aggregate spent about 0.4 CPU s on it. The keys are one
unsigned integer column, so the values that occur more than once are found by sorting them
with numpy (vectorised, ~0.04 s) and keeping each value equal to its neighbour. DuckDB
still computes ``hash(x)`` and the FROM/WHERE part as written; only the grouping moves. A
statement of another shape is not touched.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["materialise_repeated"]

_SHAPE = re.compile(
    r"^\s*SELECT\s+(?P<key>hash\(\s*\w+\s*\))\s+AS\s+(?P<alias>\w+)\s+"
    r"(?P<source>FROM\s.+?)\s+GROUP\s+BY\s+(?P<again>hash\(\s*\w+\s*\))\s+"
    r"HAVING\s+COUNT\(\s*\*\s*\)\s*>\s*1\s*$", re.IGNORECASE | re.DOTALL)


def materialise_repeated(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> bool:
    """Register ``name`` as the statement's result if it has the shape above; else False."""
    match = _SHAPE.match(sql)
    if match is None or _squash(match["key"]) != _squash(match["again"]) or re.search(
            r"\b(GROUP|HAVING|UNION|LIMIT|ORDER)\b", match["source"], re.IGNORECASE):
        return False
    keys = con.sql(f"SELECT {match['key']} AS k {match['source']}").to_arrow_table()
    values = keys.column("k")
    if values.null_count or not pa.types.is_unsigned_integer(values.type):
        return False
    ordered = np.sort(values.to_numpy())
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    con.register(name, pa.table({match["alias"]: pa.array(repeated, values.type)}))
    return True


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()
