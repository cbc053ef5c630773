"""Load the raw CSVs into DuckDB as the ``raw_rows`` relation that glue/etl.sql reads.

Why this shape: DuckDB's CSV reader is the fast path (parallel, all columns as text), and its
``store_rejects`` option sets aside rows it cannot read (invalid UTF-8, wrong number of fields)
without slowing the rest down. Those few rejected lines are parsed here in Python and put back
into ``raw_rows`` flagged, so the shared SQL quarantines them with a reason and the row number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fraudpipe.errors import DataValidationError
from glue.etl_job import EtlInputError, check_header

__all__ = ["RawFile", "inspect_files", "load_raw_rows", "quote"]


@dataclass(frozen=True)
class RawFile:
    """A raw CSV: its name (``source_file``), path and normalised header."""

    name: str
    path: Path
    columns: list[str]


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def _rejected_rows(con: duckdb.DuckDBPyConnection, table: str, raw: RawFile
                   ) -> list[tuple[int, bool, list[str | None]]]:
    """(data row number, bad encoding?, fields) of each line DuckDB set aside."""
    found = con.execute(
        f"SELECT line, bool_or(error_type = 'INVALID ENCODING'), any_value(csv_line) "
        f"FROM {table} GROUP BY line ORDER BY line").fetchall()
    rows = []
    width = len(raw.columns)
    for line, bad_encoding, text in found:
        fields: list[str | None] = next(csv.reader(io.StringIO(text or "")), [])
        fields = [f if f != "" else None for f in fields[:width]]
        rows.append((int(line) - 1, bool(bad_encoding), fields + [None] * (width - len(fields))))
    return rows


def _load_one(con: duckdb.DuckDBPyConnection, raw: RawFile, order: int) -> str:
    """Read one file into ``file_<order>``; returns a SELECT giving its ``raw_rows`` part."""
    table, rejects = f"file_{order}", f"rejects_{order}"
    names = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in raw.columns) + "}"
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT * FROM read_csv({_literal(str(raw.path))}, "
        f"header = true, columns = {names}, delim = ',', quote = '\"', "
        f"escape = '\"', auto_detect = false, store_rejects = true, "
        f"rejects_table = '{rejects}', rejects_scan = 'scan_{order}')")
    cols = ", ".join(quote(c) for c in raw.columns)
    provenance = f"{_literal(raw.name)} AS source_file, {order} AS file_order"
    rejected = _rejected_rows(con, rejects, raw)
    if not rejected:
        return (f"SELECT {cols}, {provenance}, rowid + 1 AS row_number, "
                f"false AS bad_encoding, false AS malformed FROM {table}")
    # accepted row k (1-based) sits after every rejected row i with line_i - i < k
    shifts = [(line - i, i) for i, (line, _, _) in enumerate(rejected, start=1)]
    con.execute(f"CREATE TEMP TABLE shifts_{order} (start BIGINT, shift BIGINT)")
    con.executemany(f"INSERT INTO shifts_{order} VALUES (?, ?)", shifts)
    con.execute(
        f"CREATE TEMP TABLE bad_{order} AS SELECT {cols}, 0::BIGINT AS row_number, "
        f"false AS bad_encoding, false AS malformed FROM {table} LIMIT 0")
    con.executemany(
        f"INSERT INTO bad_{order} VALUES ({', '.join('?' * (len(raw.columns) + 3))})",
        [[*fields, line, enc, not enc] for line, enc, fields in rejected])
    return (
        f"SELECT {cols}, {provenance}, k + coalesce(s.shift, 0) AS row_number, "
        f"false AS bad_encoding, false AS malformed "
        f"FROM (SELECT *, rowid + 1 AS k FROM {table}) AS t "
        f"ASOF LEFT JOIN (SELECT start, max(shift) AS shift FROM shifts_{order} GROUP BY start) "
        f"AS s ON t.k > s.start "
        f"UNION ALL SELECT {cols}, {provenance}, row_number, bad_encoding, malformed "
        f"FROM bad_{order}")


def load_raw_rows(con: duckdb.DuckDBPyConnection, files: list[RawFile]) -> list[str]:
    """Create the ``raw_rows`` view over ``files``; returns the union of their columns."""
    columns: list[str] = []
    parts = []
    for order, raw in enumerate(files):
        columns += [c for c in raw.columns if c not in columns]
        parts.append(_load_one(con, raw, order))
    con.execute("CREATE TEMP VIEW raw_rows AS " + " UNION ALL BY NAME ".join(
        f"({part})" for part in parts))
    return columns
