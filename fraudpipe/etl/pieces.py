"""Read clean raw CSVs as pieces of whole lines, one pyarrow thread per piece and core.

Why: pyarrow's multithreaded reader spends ~15% more CPU than the same parse on one thread
(it splits one file into blocks, parses them on a pool and stitches them back), and the
two raw files are unequal (335 and 143 MB), so reading them side by side left a core idle
at the end. Here every file is cut at line ends into pieces of a few tens of MB, a pool of
one thread per core parses the pieces, each single-threaded, and a file's pieces are put
back in order (no copy). Each piece's bytes are scanned where they are parsed (the
largest byte, line ends, quote characters).

Only the common clean file is read this way: every piece parses without error, gives one
row per line (no blank line, no line with the wrong number of fields, no newline inside a
value), and no cut falls inside a quoted value (an even number of quote characters before
each cut). For any other file :func:`read_pieces` returns None for it and the caller reads
it whole (``fraudpipe.etl.arrow_read``), which finds and flags the bad lines.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from fraudpipe.etl.arrow_read import map_file, scan_bytes

__all__ = ["PIECE_BYTES", "read_pieces"]

PIECE_BYTES = 32 << 20  # bytes of CSV one thread parses at a time
Derive = Callable[[pa.Table], pa.Table]


@dataclass(frozen=True)
class _Parsed:
    """One piece: its rows and what its bytes held."""

    table: pa.Table | None  # None when pyarrow refused the piece
    lines: int  # lines of data in the piece (the header not counted)
    quotes: int  # quote characters in the piece


def _cuts(data: mmap.mmap, size: int) -> list[int]:
    """Offsets where the pieces start (after a line end) and the file's end."""
    cuts, end = [0], len(data)
    while end - cuts[-1] > size + size // 2:  # no piece under half the size at the end
        line_end = data.find(b"\n", cuts[-1] + size)
        if line_end < 0 or line_end + 1 >= end:
            break
        cuts.append(line_end + 1)
    return [*cuts, end]


def _parse_piece(data: mmap.mmap, start: int, stop: int, columns: list[str],
                 include: list[str], derive: Derive | None) -> _Parsed:
    """Scan and parse bytes ``start:stop`` (whole lines; the header when ``start`` is 0), then
    add ``derive``'s columns (in this thread, so that work is spread over the cores too)."""
    view = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    ascii_only, newlines, quotes = scan_bytes(view, quotes=True)
    lines = newlines + (view[-1] != 10) - (start == 0)
    convert = pacsv.ConvertOptions(
        include_columns=include, column_types={c: pa.string() for c in include},
        check_utf8=not ascii_only, null_values=[""], strings_can_be_null=True,
        quoted_strings_can_be_null=False)
    options = pacsv.ReadOptions(column_names=columns, skip_rows=1 if start == 0 else 0,
                                use_threads=False)
    try:
        table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(data).slice(start, stop - start)),
                               read_options=options, convert_options=convert)
    except pa.ArrowInvalid:
        return _Parsed(None, int(lines), quotes)
    return _Parsed(table if derive is None else derive(table), int(lines), quotes)


def _whole(parsed: list[_Parsed]) -> pa.Table | None:
    """The file's rows from its pieces, or None unless every piece read clean."""
    before = 0
    for number, piece in enumerate(parsed):
        if piece.table is None or piece.table.num_rows != piece.lines:
            return None  # refused, or a blank line / newline in a value: read it whole
        if number and before % 2:
            return None  # the cut before this piece fell inside a quoted value
        before += piece.quotes
    return pa.concat_tables([piece.table for piece in parsed])


def read_pieces(files: list[tuple[Path, list[str], list[str]]], threads: int | None = None,
                size: int | None = None, derive: Derive | None = None
                ) -> list[pa.Table | None]:
    """Each file (path, header columns, columns to load) read piecewise, or None for a file
    that is not clean (see the module docstring); results in file order. ``derive`` adds
    columns to each piece's table (``fraudpipe.etl.times``)."""
    size = size or PIECE_BYTES
    workers = max(1, threads or os.cpu_count() or 1)
    maps = [map_file(path) for path, _, _ in files]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="etl-piece") as pool:
        pending: list[list[Future[_Parsed]]] = []
        for data, (_, columns, include) in zip(maps, files, strict=True):
            cuts = _cuts(data, size)
            pending.append([pool.submit(_parse_piece, data, a, b, columns, include, derive)
                            for a, b in pairwise(cuts)])
        return [_whole([future.result() for future in futures]) for futures in pending]
