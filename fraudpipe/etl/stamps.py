"""The routing table's ``EVENT_TIMESTAMP`` built from the raw text, checked against ``event_ts``.

Why: ``routed`` in glue/etl.sql formats every row's parsed timestamp as ISO 8601
(``concat(replace(CAST(c.event_ts AS STRING), ' ', 'T'), 'Z')``). In DuckDB that formatting and
bringing 1.86M new strings back to Arrow cost ~0.45 CPU s, a third of the statement. The raw
``trans_date_trans_time`` is usually already ``YYYY-MM-DD HH:MM:SS``, i.e. those 19 bytes with
``T`` and ``Z`` put in. Here the statement runs without that column; each raw text is read
as fixed 19-byte records and compared, as machine words, with how DuckDB prints the
``event_ts`` it computed (whole seconds of years 1 - 9999: ``YYYY-MM-DD HH:MM:SS``, looked up
in tables of the span's dates and of the times of day); only when every row with a
timestamp matches is the column built from the bytes; a row without a timestamp gets
``'Z'``, as DuckDB's ``concat`` skips a NULL. Otherwise the same expression
runs in DuckDB over the materialised rows: the result is the same either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["StampSplit", "add_stamps", "as_words", "fixed_records", "iso_stamps", "iso_texts",
           "split_stamp", "stamps_from_parsed", "string_buffers"]

TEXT_COLUMN = "trans_date_trans_time"
_ITEM = re.compile(
    r",\s*concat\(\s*replace\(\s*CAST\(\s*(?P<alias>\w+)\.event_ts\s+AS\s+STRING\s*\)\s*,"
    r"\s*' '\s*,\s*'T'\s*\)\s*,\s*'Z'\s*\)\s+AS\s+(?P<name>EVENT_TIMESTAMP)\s+FROM\s",
    re.IGNORECASE)


@dataclass(frozen=True)
class StampSplit:
    """The statement without its last item, the item's SQL, and the column name."""

    sql: str
    expression: str
    name: str


def split_stamp(sql: str) -> StampSplit | None:
    """Split off a last select item ``concat(replace(CAST(x.event_ts AS STRING), ...)) AS
    EVENT_TIMESTAMP`` when ``x.event_ts`` is also selected as is; None for any other shape."""
    found = list(_ITEM.finditer(sql))
    if len(found) != 1:
        return None
    item, alias = found[0], found[0]["alias"]
    head = sql[:item.start()]
    if not re.search(rf"[\s,]{alias}\.event_ts\s*,", head) or head.count("(") != head.count(")"):
        return None
    expression = sql[item.start() + 1:item.start("name")].strip()
    expression = re.sub(r"\s+AS\s*$", "", expression, flags=re.IGNORECASE)
    narrow = head + " FROM " + sql[item.end():]
    return StampSplit(narrow, expression.replace(f"{alias}.event_ts", "event_ts"),
                      item["name"])


def add_stamps(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table | None,
               split: StampSplit, text: pa.ChunkedArray | None,
               parsed: tuple[pa.ChunkedArray, pa.ChunkedArray] | None = None) -> pa.Table:
    """``table`` (registered as ``name``) with the stamp column appended and registered again.

    ``text`` is the raw timestamp text of each row of ``table`` (None when unknown);
    ``parsed`` the read-time parse of that text and its ISO form (``fraudpipe.etl.times``),
    when known. Without them, or when a row does not check, DuckDB computes the column over
    the registered rows.
    """
    stamps = None
    if table is not None and parsed is not None:
        stamps = stamps_from_parsed(table.column("event_ts"), *parsed)
    if stamps is None and table is not None and text is not None:
        stamps = iso_stamps(text, table.column("event_ts"))
    if stamps is None or table is None:
        result = con.sql(f"SELECT *, {split.expression} AS {split.name} FROM {name}")
        full = result.to_arrow_table()
    else:
        full = table.append_column(split.name, stamps)
    con.register(name, full)
    return full


def stamps_from_parsed(event_ts: pa.ChunkedArray, parsed: pa.ChunkedArray,
                       iso: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The stamps as the read-time ISO texts ``iso`` when every ``event_ts`` is the read-time
    parse ``parsed`` of its row's raw text (or both are NULL: then ``'Z'``, as ``concat``
    skips a NULL); else None.

    Why this suffices: ``fraudpipe.etl.times`` parses only canonical ``YYYY-MM-DD HH:MM:SS``
    texts, which are exactly how DuckDB prints the timestamp they hold, so for those rows
    the statement's expression gives the text with ``T`` and ``Z``, i.e. ``iso``. Comparing
    two timestamp columns costs a fraction of checking the text, and the ISO texts were
    built by the reader threads, so nothing is copied here.
    """
    stamp = pa.timestamp("us")
    if (event_ts.type != stamp or parsed.type != stamp or iso.type != pa.string()
            or not len(event_ts) == len(parsed) == len(iso)):
        return None
    known = pc.is_valid(parsed).to_numpy(zero_copy_only=False)
    if not (known == pc.is_valid(iso).to_numpy(zero_copy_only=False)).all():
        return None
    if not (known == pc.is_valid(event_ts).to_numpy(zero_copy_only=False)).all():
        return None  # a row the SQL parsed and the reader did not (or the other way round)
    if not pc.all(pc.equal(event_ts, parsed), skip_nulls=True, min_count=0).as_py():
        return None
    return iso if known.all() else pc.fill_null(iso, "Z")


def iso_stamps(text: pa.ChunkedArray, event_ts: pa.ChunkedArray) -> pa.Array | None:
    """``concat(replace(CAST(event_ts AS STRING), ' ', 'T'), 'Z')`` from ``text``, or None."""
    if event_ts.type != pa.timestamp("us") or len(text) != len(event_ts):
        return None
    valid = pc.is_valid(event_ts).to_numpy(zero_copy_only=False)
    every = bool(valid.all())
    chosen = text if every else text.filter(pa.array(valid))
    if chosen.null_count:
        return None
    records = fixed_records(chosen.combine_chunks() if isinstance(chosen, pa.ChunkedArray)
                       else chosen)
    stamps = event_ts if every else event_ts.filter(pa.array(valid))
    micros = stamps.cast(pa.int64()).to_numpy() if len(stamps) else np.zeros(0, np.int64)
    if records is None or not _matches(records, micros):
        return None
    if 20 * len(records) + (len(valid) - len(records)) >= 2**31:
        return None  # more than a string array holds: DuckDB's result type differs
    iso = iso_texts(records, valid)
    return iso if every else pc.fill_null(iso, "Z")


def string_buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's ``len + 1`` value offsets and its data bytes, as numpy views."""
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], np.int32)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] else np.zeros(0, np.uint8)
    return offsets, data


def fixed_records(array: pa.Array) -> np.ndarray | None:
    """The values as an (n, 19) byte matrix, or None unless every value has 19 bytes."""
    if array.type != pa.string():
        return None
    n = len(array)
    if n == 0:
        return np.zeros((0, 19), np.uint8)
    offsets, data = string_buffers(array)
    if not (np.diff(offsets) == 19).all():
        return None
    return data[offsets[0]:offsets[0] + 19 * n].reshape(n, 19)


_DAY_US, _SECOND_US = 86_400_000_000, 1_000_000
_FIRST_DAY, _LAST_DAY = (date(1, 1, 1) - date(1970, 1, 1)).days, (date(9999, 12, 31)
                                                                   - date(1970, 1, 1)).days
_MOST_DAYS = 400_000  # a wider span (over a thousand years) is left to DuckDB


def as_words(records: np.ndarray, start: int, width: int, dtype: type) -> np.ndarray:
    """Bytes ``start:start + width`` of each record read in place as one machine word."""
    if not records.flags.c_contiguous:
        records = np.ascontiguousarray(records)
    word = np.dtype(dtype)
    if word.itemsize != width:
        raise ValueError(f"a {word} word is not {width} bytes wide")
    return np.ndarray((len(records),), word, records, start, (records.strides[0],))


def _matches(records: np.ndarray, micros: np.ndarray) -> bool:
    """Is each record exactly how DuckDB prints the timestamp ``micros`` (whole seconds,
    year 1 - 9999: ``YYYY-MM-DD HH:MM:SS``)?

    Compared as machine words against tables of the dates in the span and of the 86,400
    times of day, printed by Python's ``date`` / integer formatting.
    """
    if not len(micros):
        return True
    days = micros // _DAY_US
    seconds, fraction = np.divmod(micros - days * _DAY_US, _SECOND_US)
    first, last = int(days.min()), int(days.max())
    if (fraction.any() or first < _FIRST_DAY or last > _LAST_DAY
            or last - first > _MOST_DAYS or not (records[:, 10] == ord(" ")).all()):
        return False
    dates = np.frombuffer(b"".join(
        (date(1970, 1, 1) + timedelta(days=d)).isoformat().encode()
        for d in range(first, last + 1)), np.uint8).reshape(-1, 10)
    index = days - first
    return bool((as_words(records, 0, 8, np.uint64)
                 == as_words(dates, 0, 8, np.uint64)[index]).all()
                and (as_words(records, 8, 2, np.uint16)
                     == as_words(dates, 8, 2, np.uint16)[index]).all()
                and (as_words(records, 11, 8, np.uint64) == _times()[seconds]).all())


@cache
def _times() -> np.ndarray:
    """``HH:MM:SS`` of each second of a day, as 8-byte words."""
    second = np.arange(86400)
    text = np.full((86400, 8), ord(":"), np.uint8)
    for column, value in ((0, second // 3600), (3, second // 60 % 60), (6, second % 60)):
        text[:, column], text[:, column + 1] = value // 10 + 48, value % 10 + 48
    return text.view(np.uint64).ravel()


def iso_texts(records: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Strings ``YYYY-MM-DDTHH:MM:SSZ`` of ``records`` (the valid rows' texts), NULL elsewhere.

    The 19-byte records are copied as whole items of a 20-byte record type, which numpy does
    several times faster than a copy of a 19-column byte slice.
    """
    out = np.empty(len(records), np.dtype([("text", "V19"), ("z", "u1")]))
    out["text"] = np.ascontiguousarray(records).reshape(-1).view("V19")
    out["z"] = ord("Z")
    data = out.view(np.uint8).reshape(-1, 20)
    data[:, 10] = ord("T")
    if valid.all():
        offsets = np.arange(0, 20 * len(valid) + 1, 20, dtype=np.int32)
    else:
        offsets = np.zeros(len(valid) + 1, np.int32)
        np.cumsum(valid * 20, out=offsets[1:])
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), len(valid),
                                 [bitmap, pa.py_buffer(offsets), pa.py_buffer(data.reshape(-1))])
