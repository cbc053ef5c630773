"""Read one raw CSV into an Arrow table of strings, with the flags glue/etl.sql needs.

Why pyarrow: its CSV reader is the fastest on this machine (parallel, no type inference when
every column is declared a string), and DuckDB scans the resulting table without copying it.
The file is memory-mapped, not copied; clean files (the common case) cost one vectorised pass
over the bytes (the largest byte, for an ASCII check, and the number of line ends) on top of
the parse. Only a file with a bad line pays for finding it:

- **invalid UTF-8**: located by decoding the bytes, the line's text replaced by its decoding
  with U+FFFD (what Spark sees), and the row flagged ``bad_encoding``;
- **wrong number of fields**: pyarrow hands the line to a callback instead of failing; the line
  is found again in the bytes (for its row number) and kept, fields padded or cut, flagged
  ``malformed``.

``row_number`` is the 1-based position among the file's non-blank data lines, as Spark numbers
its records, so both engines name the same row in the quarantine file.
"""

from __future__ import annotations

import csv
import io
import mmap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from fraudpipe.errors import DataValidationError

__all__ = ["RawTable", "clean_table", "fetch_rows", "map_file", "read_raw_csv", "scan_bytes"]

_CHUNK = 1 << 20  # small: a bad line costs a re-decode of at most one chunk


@dataclass
class RawTable:
    """One file's rows (every raw column a string) and its provenance columns."""

    table: pa.Table
    rejected: list[tuple[int, bool, list[str | None]]] = field(default_factory=list)


def _invalid_utf8_offsets(data: bytes | mmap.mmap) -> list[int]:
    """Byte offsets of (the first invalid byte of) each line that is not valid UTF-8."""
    offsets: list[int] = []
    start, size = 0, len(data)
    while start < size:
        end = min(size, start + _CHUNK)
        if end < size:  # cut at a line end so no character straddles two chunks
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else end
        try:
            data[start:end].decode("utf-8")
            start = end
        except UnicodeDecodeError as exc:
            bad = start + exc.start
            offsets.append(bad)
            line_end = data.find(b"\n", bad)
            start = size if line_end < 0 else line_end + 1
            # the rest of the chunk is decoded again from the next line on
    return offsets


def scan_bytes(data: bytes | mmap.mmap | np.ndarray, quotes: bool = False
               ) -> tuple[bool, int, int]:
    """(every byte ASCII?, number of ``\\n``, number of ``"`` or 0 unless ``quotes``) in one
    pass of cache-sized pieces; the whole-file reader and the piece reader both use it.

    Why not ``data.find(b"\\n\\n")`` for blank lines: a byte search runs at ~1 GB/s on one
    core and held the reader back by a third; counting line ends with numpy is ten times
    cheaper, and a file is known to have no blank line when every line became a row.
    """
    view = np.frombuffer(data, dtype=np.uint8)
    largest, newlines, quoted = 0, 0, 0
    for start in range(0, len(view), _CHUNK):
        piece = view[start:start + _CHUNK]
        largest = max(largest, int(piece.max()))
        newlines += int(np.count_nonzero(piece == 10))
        if quotes:
            quoted += int(np.count_nonzero(piece == 34))
    return largest < 128, newlines, quoted


def _line_ends(data: bytes | mmap.mmap) -> np.ndarray:
    """Offsets of every ``\\n`` (the rare path: only for files with a bad or blank line)."""
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)


def _line_index(ends: np.ndarray, offset: int) -> int:
    """0-based line (0 = header) holding byte ``offset``."""
    return int(np.searchsorted(ends, offset, side="left"))


def _clean(data: bytes | mmap.mmap, ends: np.ndarray, bad_lines: list[int]) -> bytes:
    """``data`` with each line in ``bad_lines`` decoded with U+FFFD (no line is added)."""
    parts, previous = [], 0
    for line in bad_lines:
        start = int(ends[line - 1]) + 1 if line > 0 else 0
        stop = int(ends[line]) if line < len(ends) else len(data)
        parts += [data[previous:start],
                  data[start:stop].decode("utf-8", errors="replace").encode("utf-8")]
        previous = stop
    parts.append(data[previous:])
    return b"".join(parts)


def _find_lines(data: bytes | mmap.mmap, texts: list[str]) -> list[int]:
    """Byte offsets of the whole lines equal to ``texts`` (one per occurrence reported)."""
    wanted: dict[bytes, int] = {}
    for text in texts:
        key = text.encode("utf-8").rstrip(b"\r")
        wanted[key] = wanted.get(key, 0) + 1
    found: list[int] = []
    for key, count in wanted.items():
        position, hits = 0, []
        while len(hits) < count:
            position = data.find(key, position)
            if position < 0:
                break
            before_ok = position == 0 or data[position - 1:position] == b"\n"
            after = data[position + len(key):position + len(key) + 2]
            if before_ok and (after[:1] in (b"", b"\n") or after == b"\r\n"
                              or (after[:1] == b"\r" and len(after) == 1)):
                hits.append(position)
            position += 1
        found += hits
    return sorted(found)


def _parse(data: bytes | mmap.mmap, columns: list[str], include: list[str], name: str,
           check_utf8: bool) -> tuple[pa.Table, list[str]]:
    """Parse; lines with the wrong number of fields are returned aside, as text.

    Why twice at worst: pyarrow parses in parallel at full speed only without a row callback,
    so a file is first read without one; only if it holds such a line (the read fails) is it
    read again with the callback that sets those lines aside.
    """
    rejected: list[str] = []

    def keep_aside(row: pacsv.InvalidRow) -> str:
        rejected.append(row.text)
        return "skip"

    convert = pacsv.ConvertOptions(
        include_columns=include, column_types={c: pa.string() for c in include},
        check_utf8=check_utf8, null_values=[""], strings_can_be_null=True,
        quoted_strings_can_be_null=False)
    options = pacsv.ReadOptions(column_names=columns, skip_rows=1)
    try:
        return pacsv.read_csv(pa.BufferReader(data), read_options=options,
                              convert_options=convert), rejected
    except pa.ArrowInvalid:
        pass  # a line with the wrong number of fields (or worse): read again, setting aside
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=options,
                               parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
                               convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise DataValidationError(f"input file {name} cannot be read as CSV: {exc}") from exc
    return table, rejected


def map_file(path: Path) -> mmap.mmap:
    """The file memory-mapped read-only; a clear error for an empty file."""
    if path.stat().st_size == 0:
        raise DataValidationError(f"input file {path.name} is empty (0 bytes)")
    with path.open("rb") as handle:  # mapped, not copied: pyarrow parses the pages in place
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def read_raw_csv(path: Path, columns: list[str], include: list[str] | None = None
                 ) -> RawTable:
    """The data rows of ``path`` (header ``columns``) with ``row_number`` and flags.

    The returned table has the raw columns named in ``include`` (default: all; the others
    are not even converted, see :func:`fetch_rows` for them), then ``row_number`` (int64),
    ``bad_encoding`` and ``malformed`` (bool); rejected lines come back separately, all their
    columns, as (row number, bad encoding?, fields) so the caller can add them.
    """
    include = [c for c in columns if include is None or c in include]
    data: bytes | mmap.mmap = map_file(path)
    ascii_only, newlines, _ = scan_bytes(data)
    bad_utf8 = [] if ascii_only else _invalid_utf8_offsets(data)
    ends = _line_ends(data) if bad_utf8 else None
    bad_lines = sorted({_line_index(ends, o) for o in bad_utf8}) if ends is not None else []
    if bad_lines:
        data = _clean(data, ends, bad_lines)
    table, rejected_texts = _parse(data, columns, include, path.name, check_utf8=not ascii_only)
    # every line after the header became a row: no blank line, no line pyarrow split or joined
    lines = newlines - 1 + (data[-1:] != b"\n")
    if not rejected_texts and not bad_lines and table.num_rows == lines:
        return clean_table(table)
    return _numbered(data, table, columns, rejected_texts, bad_lines)


def clean_table(table: pa.Table) -> RawTable:
    """A file's rows when each line became one row: numbered 1.., nothing flagged."""
    n = table.num_rows
    return RawTable(_with_flags(table, np.arange(1, n + 1, dtype=np.int64),
                                np.zeros(n, dtype=bool)))


def _lines(data: bytes | mmap.mmap) -> tuple[np.ndarray, np.ndarray]:
    """Line ends and the 0-based indexes of blank data lines (which are not records)."""
    ends = _line_ends(data)
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.zeros(0, np.int64)
    view = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts - (view[np.maximum(ends - 1, 0)] == 13)
    blank = np.flatnonzero(lengths <= 0)
    return ends, blank[blank > 0]


def _line_text(data: bytes | mmap.mmap, ends: np.ndarray, line: int) -> str:
    start = int(ends[line - 1]) + 1
    stop = int(ends[line]) if line < len(ends) else len(data)
    return data[start:stop].decode("utf-8", errors="replace").rstrip("\r")


def _fields(text: str, width: int) -> list[str | None]:
    """A line's fields as the reader gives them (empty -> null), cut or padded to ``width``."""
    fields: list[str | None] = next(csv.reader(io.StringIO(text)), [])
    fields = [f if f != "" else None for f in fields[:width]]
    return fields + [None] * (width - len(fields))


def _numbered(data: bytes | mmap.mmap, table: pa.Table, columns: list[str],
              rejected_texts: list[str], bad_lines: list[int]) -> RawTable:
    """Row numbers and flags when some line was rejected, invalid or blank (the rare path)."""
    ends, blank = _lines(data)

    def record(line: int) -> int:
        return line - int(np.searchsorted(blank, line, side="left"))

    rejected_lines = [_line_index(ends, o) for o in _find_lines(data, rejected_texts)]
    if len(rejected_lines) != len(rejected_texts):
        raise DataValidationError("could not locate the malformed rows of a raw file")
    rejected_records = sorted(record(line) for line in rejected_lines)
    total = table.num_rows + len(rejected_records)
    numbers = np.delete(np.arange(1, total + 1, dtype=np.int64),
                        np.asarray(rejected_records, dtype=np.int64) - 1)
    bad_records = {record(line) for line in bad_lines}
    flags = np.isin(numbers, np.fromiter(bad_records, dtype=np.int64, count=len(bad_records)))
    rejected = [(record(line), record(line) in bad_records,
                 _fields(_line_text(data, ends, line), len(columns)))
                for line in sorted(rejected_lines)]
    return RawTable(_with_flags(table, numbers, flags), rejected)


def fetch_rows(path: Path, columns: list[str], records: list[int]
               ) -> dict[int, list[str | None]]:
    """All fields of the given data rows (1-based, as ``row_number``), read again from disk.

    For the few rows that need columns the transform did not load (the quarantine file keeps
    every raw column). Invalid UTF-8 reads as U+FFFD, as in the first read.
    """
    data = map_file(path)
    ends, blank = _lines(data)
    last = len(ends) if data[-1:] == b"\n" else len(ends) + 1
    data_lines = np.setdiff1d(np.arange(1, last, dtype=np.int64), blank)
    return {n: _fields(_line_text(data, ends, int(data_lines[n - 1])), len(columns))
            for n in records}


def _with_flags(table: pa.Table, numbers: np.ndarray, bad_encoding: np.ndarray) -> pa.Table:
    return (table.append_column("row_number", pa.array(numbers))
            .append_column("bad_encoding", pa.array(bad_encoding))
            .append_column("malformed", pa.array(np.zeros(len(numbers), dtype=bool))))
