"""Drop a ``trim()`` of a raw column whose values have nothing at their ends to trim.

Why: ``parsed`` in glue/etl.sql reads the label as ``trim(r.is_fraud)``, and DuckDB spent
~0.04 CPU s trimming 1.86M one-character strings. DuckDB's ``trim`` removes space
characters (Unicode ``Zs``) from both ends; when no value of the column starts or ends with
anything but a printable ASCII character other than the space (checked over every raw row,
set-aside lines included), ``trim(x)`` is ``x`` for every row, and the statement reads
``x``. A column with any other value, or a statement of another shape (a join, another
relation), is left as written.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from fraudpipe.etl.stamps import string_buffers
from fraudpipe.etl.times import raw_source

__all__ = ["without_trims"]

_TRIM = re.compile(r"\btrim\(\s*(?P<alias>\w+)\.(?P<column>\w+)\s*\)", re.IGNORECASE)


def without_trims(sql: str, raw: pa.Table) -> str | None:
    """``sql`` with ``trim(r.c)`` replaced by ``r.c`` for each raw column ``c`` with nothing to
    trim, or None when no trim can go (then the statement runs as written)."""
    source = raw_source(sql)
    alias = None if source is None else source["alias"]
    if alias is None:  # (another shape, or raw_rows without an alias)
        return None
    plain = {m["column"] for m in _TRIM.finditer(sql)
             if m["alias"] == alias and m["column"] in raw.column_names
             and _nothing_to_trim(raw.column(m["column"]))}
    if not plain:
        return None
    return _TRIM.sub(lambda m: f"{alias}.{m['column']}" if m["alias"] == alias
                     and m["column"] in plain else m.group(0), sql)


def _nothing_to_trim(column: pa.ChunkedArray) -> bool:
    """Does every non-empty value start and end with a printable ASCII byte other than space?"""
    if column.type != pa.string():
        return False
    array = column.combine_chunks()
    n = len(array)
    if n == 0:
        return True
    offsets, data = string_buffers(array)
    filled = offsets[1:] > offsets[:-1]  # NULL and empty values have nothing to trim
    if array.null_count:
        filled &= array.is_valid().to_numpy(zero_copy_only=False)
    ends = np.concatenate((data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]))
    return bool(((ends > 0x20) & (ends < 0x7F)).all())
