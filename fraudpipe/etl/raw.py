"""Give DuckDB the raw CSVs as the ``raw_rows`` relation that glue/etl.sql reads.

Why this shape: pyarrow reads the files (the fastest reader here, see ``arrow_read``) and DuckDB
scans those Arrow tables in place, so no row is copied into DuckDB. Lines pyarrow set aside
(wrong number of fields) come back as small extra tables, flagged, so the shared SQL
quarantines them with a reason and their row number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from fraudpipe.errors import DataValidationError
from fraudpipe.etl.arrow_read import RawTable, clean_table, fetch_rows, read_raw_csv
from fraudpipe.etl.late import Gathering, gather
from fraudpipe.etl.pieces import read_pieces
from fraudpipe.etl.times import ISO, PARSED, add_parsed_stamps
from glue.etl_job import REQUIRED_COLUMNS, EtlInputError, check_header, string_literal

__all__ = ["RawFile", "RawRows", "inspect_files", "load_raw_rows", "quote"]


@dataclass(frozen=True)
class RawFile:
    """A raw CSV: its name (``source_file``), path and normalised header."""

    name: str
    path: Path
    columns: list[str]


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def inspect_files(raw_dir: Path) -> list[RawFile]:
    """The CSVs under ``raw_dir`` with checked headers; clear errors for empty or bad files."""
    paths = sorted(p for p in raw_dir.glob("*.csv") if p.is_file())
    if not paths:
        raise DataValidationError(f"no CSV files under {raw_dir}")
    files = []
    for path in paths:
        if path.stat().st_size == 0:
            raise DataValidationError(f"input file {path.name} is empty (0 bytes)")
        with path.open("rb") as handle:
            head = handle.readline().rstrip(b"\r\n")
            if not handle.readline().strip():
                raise DataValidationError(
                    f"input file {path.name} has a header but no data rows")
        try:
            files.append(RawFile(path.name, path, check_header(path.name, head)))
        except EtlInputError as exc:
            raise DataValidationError(str(exc)) from exc
    return files


def _rejected_table(raw: RawFile, read: RawTable) -> pa.Table:
    """The lines pyarrow set aside, every column, as rows in the shape of the file's table."""
    rows = [[*fields, number, encoding, not encoding]
            for number, encoding, fields in read.rejected]
    types = [pa.string()] * len(raw.columns) + [pa.int64(), pa.bool_(), pa.bool_()]
    names = [*raw.columns, "row_number", "bad_encoding", "malformed"]
    return pa.table([pa.array([row[i] for row in rows], type=kind)
                     for i, kind in enumerate(types)], names=names)


@dataclass(frozen=True)
class _Piece:
    """Rows ``start .. start + length`` of the Arrow table: one file's accepted rows."""

    start: int
    table: pa.Table
    file: RawFile


@dataclass(frozen=True)
class RawRows:
    """What :func:`load_raw_rows` made: the union of the columns and every row as Arrow.

    ``table`` holds the rows of every file (accepted and set-aside ones) in one Arrow table;
    ``raw_rows.__pos`` is a row's position in it, so a runner can fetch pass-through values
    after SQL has chosen and ordered the rows (:meth:`values`). Only the columns the SQL
    reads are loaded; another column's values are read again from the file for the rows
    asked for (the quarantined ones).
    """

    columns: list[str]
    table: pa.Table
    #: file_order -> position of the file's first row, when every file's rows sit in
    #: row-number order with none set aside (position = base + row_number - 1); else None
    bases: dict[int, int] | None = None
    pieces: tuple[_Piece, ...] = ()
    #: file_order -> the file's name (raw_rows' source_file of its rows)
    sources: dict[int, str] = field(default_factory=dict)
    #: rows read again from disk, per piece: row number -> all fields (one read per piece)
    _fetched: dict[int, dict[int, list[str | None]]] = field(default_factory=dict,
                                                              compare=False, repr=False)

    @property
    def parsed_stamps(self) -> bool:
        """Does raw_rows have ``__event_ts`` (and :attr:`table` its ``__iso`` form), the canonical
        timestamps parsed at read time (``fraudpipe.etl.times``; NULL where the SQL's cast must
        decide)?"""
        return {PARSED, ISO} <= set(self.table.column_names)

    def values(self, name: str, positions: np.ndarray,
               how: Gathering | None = None) -> pa.ChunkedArray:
        """Column ``name`` at ``positions`` (int64 positions in :attr:`table`); ``how`` is
        :func:`fraudpipe.etl.late.plan_gather` of the positions, when known."""
        if name in self.table.column_names:
            found = gather(self.table.column(name), positions, how)
        else:
            found = pa.chunked_array([pa.nulls(len(positions), pa.string())])
        lacking = [p for p in self.pieces if name not in p.table.column_names]
        patches: dict[int, str | None] = {}
        for piece in lacking:
            inside = positions[(positions >= piece.start)
                               & (positions < piece.start + piece.table.num_rows)]
            if not len(inside):
                continue
            numbers = piece.table.column("row_number").take(
                pa.array(inside - piece.start)).to_pylist()
            rows = self._fetched.setdefault(piece.start, {})
            missing = [n for n in numbers if n not in rows]
            if missing:
                rows.update(fetch_rows(piece.file.path, piece.file.columns, missing))
            column = piece.file.columns.index(name) if name in piece.file.columns else None
            patches.update({int(pos): None if column is None else rows[n][column]
                            for pos, n in zip(inside, numbers, strict=True)})
        if not patches:
            return found
        merged = [patches.get(int(pos), value)
                  for pos, value in zip(positions, found.to_pylist(), strict=True)]
        return pa.chunked_array([pa.array(merged, pa.string())])


def _read_all(files: list[RawFile], needed: tuple[str, ...]) -> list[RawTable]:
    """Every file read, results in file order.

    Clean files (the common case) are read as pieces, one single-threaded parse per core
    (``fraudpipe.etl.pieces``); a file with a blank, malformed or non-UTF-8 line is then
    read whole (``fraudpipe.etl.arrow_read``), which flags those lines.
    """
    loads = [[c for c in raw.columns if c in needed] for raw in files]
    tables = read_pieces([(raw.path, raw.columns, load)
                          for raw, load in zip(files, loads, strict=True)],
                         derive=add_parsed_stamps)
    return [clean_table(table) if table is not None
            else read_raw_csv(raw.path, raw.columns, load)
            for raw, load, table in zip(files, loads, tables, strict=True)]


def load_raw_rows(con: duckdb.DuckDBPyConnection, files: list[RawFile],
                  needed: tuple[str, ...] = REQUIRED_COLUMNS) -> RawRows:
    """Read ``files`` with pyarrow and create the ``raw_rows`` view over them in DuckDB.

    ``raw_rows`` has the ``needed`` columns (those the SQL reads) and the provenance columns;
    other raw columns are left unconverted until :meth:`RawRows.values` asks for them.
    """
    columns: list[str] = []
    parts, tables, pieces, offset = [], [], [], 0
    bases: dict[int, int] | None = {}
    for order, (raw, read) in enumerate(zip(files, _read_all(files, needed), strict=True)):
        columns += [c for c in raw.columns if c not in columns]
        loaded = [c for c in raw.columns if c in needed]
        chunks = [read.table] + ([_rejected_table(raw, read)] if read.rejected else [])
        if bases is not None:
            bases = None if read.rejected else {**bases, order: offset}
        for number, chunk in enumerate(chunks):
            name = f"file_{order}_{number}"
            chunk = chunk.append_column("__pos", pa.array(
                np.arange(offset, offset + chunk.num_rows, dtype=np.int64)))
            if number == 0:
                pieces.append(_Piece(offset, chunk, raw))
            offset += chunk.num_rows
            con.register(name, chunk)
            tables.append(chunk)
            cols = ", ".join(quote(c) for c in [*loaded, PARSED] if c in chunk.column_names)
            parts.append(f"SELECT {cols}, {string_literal(raw.name)} AS source_file, "
                         f"{order} AS file_order, row_number, bad_encoding, malformed, __pos "
                         f"FROM {name}")
    con.execute("CREATE TEMP VIEW raw_rows AS " + " UNION ALL BY NAME ".join(
        f"({part})" for part in parts))
    return RawRows(columns, pa.concat_tables(tables, promote_options="default"), bases,
                   tuple(pieces), {order: raw.name for order, raw in enumerate(files)})
