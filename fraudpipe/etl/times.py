"""Parse the raw timestamps while the file is read, so the SQL's cast only sees the odd ones.

Why: glue/etl.sql parses ``trans_date_trans_time`` with ``TRY_CAST(... AS TIMESTAMP)`` in
``parsed`` (every row) and ``test_start`` (the test file's rows); DuckDB spent ~0.17 CPU s
on those casts for 1.86M rows. Nearly every raw value is the canonical text
``YYYY-MM-DD HH:MM:SS``, whose timestamp is plain arithmetic. Here each piece of a file, in
the reader thread that parsed it, gets a ``__event_ts`` column: that timestamp for each
canonical value, NULL for any other value (another layout, a fraction, an impossible date,
a NULL). The statements then read ``COALESCE(r.__event_ts, TRY_CAST(r.trans_date_trans_time
AS TIMESTAMP))``: DuckDB only casts the rows left NULL (it evaluates ``COALESCE``'s second
argument only for those), so every row still gets exactly the SQL's value.

Dates are read where they change (raw rows come in time order, so a day's rows share one
date text): each distinct date text is checked to be the ISO form of a real date by
Python's ``date`` (it must print back to the same ten characters); times of day are
checked and computed with numpy. A piece whose dates change too often is left to DuckDB.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import numpy as np
import pyarrow as pa

from fraudpipe.etl.stamps import (
    TEXT_COLUMN,
    as_words,
    fixed_records,
    iso_texts,
    string_buffers,
)

__all__ = ["ISO", "PARSED", "add_parsed_stamps", "parse_stamps", "raw_source",
           "with_parsed_stamps"]

PARSED = "__event_ts"
ISO = "__iso"
_MOST_DATES = 20_000  # distinct date runs per piece beyond which DuckDB casts them all
_EPOCH = date(1970, 1, 1)
_CAST = re.compile(r"TRY_CAST\(\s*(?P<alias>\w+\.)?" + TEXT_COLUMN + r"\s+AS\s+TIMESTAMP\s*\)",
                   re.IGNORECASE)
_FROM_RAW = re.compile(r"\sFROM\s+raw_rows(?:\s+AS\s+(?P<alias>\w+))?(?=\s|;|$)", re.IGNORECASE)


def add_parsed_stamps(table: pa.Table) -> pa.Table:
    """``table`` with ``__event_ts`` and ``__iso`` appended when it has the raw timestamp
    column: each canonical text's timestamp and its ISO 8601 form (``2019-01-01T00:00:18Z``,
    what the SQL makes of that timestamp), NULL for any other text."""
    if TEXT_COLUMN not in table.column_names:
        return table
    stamps, iso = _parse(table.column(TEXT_COLUMN))
    return table.append_column(PARSED, stamps).append_column(ISO, iso)


def parse_stamps(text: pa.ChunkedArray) -> pa.Array:
    """timestamp[us] of each canonical ``YYYY-MM-DD HH:MM:SS`` value, NULL for the others."""
    return _parse(text)[0]


def _parse(text: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    array = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    n = len(array)
    nothing = pa.nulls(n, pa.timestamp("us")), pa.nulls(n, pa.string())
    if array.type != pa.string() or n == 0:
        return nothing
    present = np.diff(string_buffers(array)[0]) == 19
    if array.null_count:
        present &= array.is_valid().to_numpy(zero_copy_only=False)
    if not present.any():
        return nothing
    if present.all():
        records = fixed_records(array)
    else:  # the rare path: gather the 19-byte values one by one
        records = _gather_records(array, np.flatnonzero(present))
    if records is None:
        return nothing
    micros, good = _micros(records)
    if micros is None or int(good.sum()) * 20 >= 2**31:  # (more than one string array holds)
        return nothing
    valid = present.copy()
    valid[present] = good
    values = np.zeros(n, np.int64)
    values[present] = micros
    return (pa.array(values, pa.timestamp("us"), mask=None if valid.all() else ~valid),
            iso_texts(records if good.all() else records[good], valid))


def _gather_records(array: pa.Array, rows: np.ndarray) -> np.ndarray | None:
    offsets, data = string_buffers(array)
    return data[offsets[rows][:, None] + np.arange(19)]


def _micros(records: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Microseconds of each record and whether it is canonical (None when too many dates).

    Each two-digit field (hours, minutes, seconds) is read in place as a 16-bit word and
    looked up in a table of the 65,536 words: its seconds, or -1 unless it is two digits in
    the field's range.
    """
    n = len(records)
    dates, ok = _days(records)
    if dates is None:
        return None, np.zeros(n, bool)
    # bytes 10 - 17 as one word: ' ' at 10, ':' at 13 and 16 (the digits masked out)
    ok &= (as_words(records, 10, 8, np.uint64) & _SEPARATORS_MASK) == _SEPARATORS
    seconds = np.zeros(n, np.int64)
    for start, table in ((11, _pairs(23, 3600)), (14, _pairs(59, 60)), (17, _pairs(59, 1))):
        part = table[as_words(records, start, 2, np.uint16)]
        ok &= part >= 0
        seconds += part
    return (dates * 86_400 + seconds) * 1_000_000, ok


_SEPARATORS_MASK = np.uint64(0xFF << 48 | 0xFF << 24 | 0xFF)  # bytes 0, 3, 6 of the word
_SEPARATORS = np.uint64(ord(":") << 48 | ord(":") << 24 | ord(" "))


@cache
def _pairs(largest: int, unit: int) -> np.ndarray:
    """Per 16-bit word (two ASCII bytes, little-endian): ``int(text) * unit`` when the
    text is two digits up to ``largest``, else -1."""
    table = np.full(65536, -1, np.int32)
    for value in range(largest + 1):
        text = f"{value:02d}".encode()
        table[text[0] | text[1] << 8] = value * unit
    return table


def _days(records: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Days since 1970-01-01 of each record's date text and whether it is a real ISO date."""
    n = len(records)
    high, low = as_words(records, 0, 8, np.uint64), as_words(records, 8, 2, np.uint16)
    changes = np.flatnonzero((high[1:] != high[:-1]) | (low[1:] != low[:-1])) + 1
    if len(changes) >= _MOST_DATES:
        return None, np.zeros(n, bool)
    starts = np.concatenate(([0], changes))
    days, ok = [], []
    for start in starts.tolist():
        text = records[start, :10].tobytes()
        day = _iso_day(text)
        days.append(day or 0)
        ok.append(day is not None)
    lengths = np.diff(np.concatenate((starts, [n])))
    return (np.repeat(np.asarray(days, np.int64), lengths),
            np.repeat(np.asarray(ok, bool), lengths))


def _iso_day(text: bytes) -> int | None:
    """Days since 1970-01-01 of ``YYYY-MM-DD`` (a real date, years 1 - 9999), else None."""
    try:
        day = date.fromisoformat(text.decode("ascii"))
    except ValueError:
        return None
    if day.isoformat().encode() != text:  # another ISO layout (e.g. 20190101 or a week date)
        return None
    return (day - _EPOCH).days


def raw_source(sql: str) -> re.Match[str] | None:
    """The ``FROM raw_rows [AS alias]`` of ``sql`` when it is one query over ``raw_rows``
    alone (one FROM, no join), else None."""
    source = list(_FROM_RAW.finditer(sql))
    if (len(source) != 1 or len(re.findall(r"\bFROM\b", sql, re.IGNORECASE)) != 1
            or re.search(r"\bJOIN\b", sql, re.IGNORECASE)):
        return None
    return source[0]


def with_parsed_stamps(sql: str) -> str | None:
    """``sql`` casting through ``COALESCE(__event_ts, TRY_CAST(...))``, or None unless it is
    one query over ``raw_rows`` alone (one FROM, no join) with such a cast."""
    source = raw_source(sql)
    casts = list(_CAST.finditer(sql))
    if source is None or not casts:
        return None
    alias = source["alias"]
    if any(cast["alias"] is not None and cast["alias"][:-1] != alias for cast in casts):
        return None  # qualified by a name that is not raw_rows' alias

    def replace(cast: re.Match[str]) -> str:
        return f"COALESCE({cast['alias'] or ''}{PARSED}, {cast.group(0)})"

    return _CAST.sub(replace, sql)
