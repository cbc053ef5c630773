"""Late materialisation of an output statement: SQL picks and orders rows, Arrow copies values.

Why: an output statement of glue/etl.sql selects pass-through raw values (``r.cc_num``,
``r.trans_num AS EVENT_ID``) next to a few computed ones. Carrying those wide strings through
DuckDB's join, sort and result conversion costs several times more than the whole
transform; asking DuckDB only for the computed columns and each row's position in the raw
Arrow table (``r.__pos``), then gathering the raw values with Arrow ``take``, gives the same
rows in the same order. A statement this module does not understand is run as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Gathering", "LatePlan", "OrderedTables", "RawValues", "assemble", "equal_mask",
           "gather", "plan_gather", "plan_late", "route_rows", "rows_where"]

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_]\w*)'
_RAW = re.compile(rf"^r\.({_IDENT})(?:\s+AS\s+({_IDENT}))?$", re.IGNORECASE | re.DOTALL)
_ALIASED = re.compile(rf"^(.*\S)\s+AS\s+({_IDENT})$", re.IGNORECASE | re.DOTALL)
_COLUMN = re.compile(rf"^(?:[A-Za-z_]\w*\.)?({_IDENT})$", re.DOTALL)
POSITION = "__pos"


@dataclass(frozen=True)
class LatePlan:
    """The narrow query to run and, per output column, its name and source.

    ``sources`` holds ``("raw", column)`` for a pass-through value or ``("sql", name)`` for a
    column of the narrow query's result.
    """

    sql: str
    names: list[str]
    sources: list[tuple[str, str]]


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _top_level(sql: str) -> list[tuple[int, str]]:
    """(position, character) of the commas and word starts outside brackets and quotes."""
    found, depth, quote = [], 0, ""
    for i, ch in enumerate(sql):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and (ch == "," or (ch.isalpha() and (i == 0 or not (
                sql[i - 1].isalnum() or sql[i - 1] in "_.\"'")))):
            found.append((i, ch))
    return found


_KEY_JOIN = re.compile(r"\s+JOIN\s+raw_rows\s+AS\s+r\s+ON\s+r\.file_order\s*=\s*(\w+)\.file_order"
                       r"\s+AND\s+r\.row_number\s*=\s*\1\.row_number\b", re.IGNORECASE)


def _without_key_join(rest: str, bases: dict[int, int]) -> tuple[str, str] | None:
    """Drop ``JOIN raw_rows AS r ON r.file_order = x.file_order AND r.row_number = ...``.

    Why it is safe: ``x`` is a relation derived from raw_rows' own keys (``routed``,
    ``batch_picks``), so each of its rows has exactly one raw row, the join neither adds nor
    removes rows, and where every file's rows sit at ``base + row_number - 1`` of the Arrow
    table the position is computed instead of joined. Returns (FROM part, position expr).
    """
    found = list(_KEY_JOIN.finditer(rest))
    if len(found) != 1:
        return None
    alias = found[0].group(1)
    trimmed = rest[:found[0].start()] + rest[found[0].end():]
    if re.search(r"\br\.", trimmed):
        return None
    cases = " ".join(f"WHEN {order} THEN {base}" for order, base in sorted(bases.items()))
    return trimmed, f"(CASE {alias}.file_order {cases} END + {alias}.row_number - 1)"


def plan_late(sql: str, bases: dict[int, int] | None = None) -> LatePlan | None:
    """The late plan of ``SELECT <list> FROM ... raw_rows AS r ...``, or None to run as is.

    ``bases`` (file_order -> position of its first row) is given when positions follow row
    numbers in every file; the key join with raw_rows is then replaced by arithmetic.
    """
    if not re.match(r"^\s*SELECT\s", sql, re.IGNORECASE) or "raw_rows AS r" not in sql:
        return None
    marks = _top_level(sql)
    start = re.match(r"^\s*SELECT\s", sql, re.IGNORECASE).end()
    end = next((i for i, _ in marks if i > start and sql[i:i + 4].upper() == "FROM"
                and not sql[i + 4:i + 5].isalnum()), None)
    if end is None:
        return None
    head = sql[start:end]
    cuts = [i - start for i, ch in marks if ch == "," and start < i < end]
    items = [head[a:b].strip() for a, b in zip([0, *[c + 1 for c in cuts]],
                                               [*cuts, len(head)], strict=True)]
    names, sources, narrow = [], [], []
    for number, item in enumerate(items):
        raw = _RAW.match(item)
        if raw:
            names.append(_unquote(raw.group(2) or raw.group(1)))
            sources.append(("raw", _unquote(raw.group(1))))
            continue
        aliased, column = _ALIASED.match(item), _COLUMN.match(item)
        if aliased:
            expression, name = aliased.group(1), _unquote(aliased.group(2))
        elif column:
            expression, name = item, _unquote(column.group(1))
        else:
            return None
        label = f"__c{number}"
        names.append(name)
        sources.append(("sql", label))
        narrow.append(f'{expression} AS "{label}"')
    if not any(kind == "raw" for kind, _ in sources):
        return None
    rest, position = sql[end:], f"r.{POSITION}"
    shortcut = _without_key_join(rest, bases) if bases else None
    if shortcut is not None:
        rest, position = shortcut
    narrow.append(f'{position} AS "{POSITION}"')
    return LatePlan("SELECT " + ", ".join(narrow) + " " + rest, names, sources)


def equal_mask(column: pa.ChunkedArray, value: str) -> np.ndarray:
    """Where ``column = value``, as booleans (NULL is not equal, as in SQL's WHERE)."""
    return pc.fill_null(pc.equal(column, value), False).to_numpy(zero_copy_only=False)


def rows_where(column: pa.ChunkedArray, value: str) -> np.ndarray:
    """Positions where ``column = value`` (NULL is not equal), as SQL's WHERE chooses them."""
    return np.flatnonzero(equal_mask(column, value))


@dataclass(frozen=True)
class Gathering:
    """How to gather values at ``positions``, worked out once for all the columns of an output.

    ``runs`` holds (first position, length) of each run of consecutive positions when they
    are few enough to slice, else None.
    """

    positions: np.ndarray
    runs: list[tuple[int, int]] | None


def plan_gather(positions: np.ndarray) -> Gathering:
    """The runs of consecutive positions in ``positions`` (None when too many to slice)."""
    if len(positions) == 0:
        return Gathering(positions, None)
    breaks = np.flatnonzero(positions[1:] != positions[:-1] + 1) + 1
    if len(breaks) > max(64, len(positions) // 1000):
        return Gathering(positions, None)
    starts = np.concatenate(([0], breaks))
    lengths = np.diff(np.concatenate((starts, [len(positions)])))
    return Gathering(positions, list(zip(positions[starts].tolist(), lengths.tolist(),
                                         strict=True)))


def gather(column: pa.ChunkedArray, positions: np.ndarray,
           how: Gathering | None = None) -> pa.ChunkedArray:
    """``column.take(positions)``, zero-copy when the positions form few ascending runs.

    Rows of a time-sorted file that are chosen in time order are long runs of consecutive
    positions (a whole file, broken only where a row was quarantined), so slices of the column
    give the same values without copying a string. ``how`` (from :func:`plan_gather` of the
    same positions) saves finding the runs again for each column.
    """
    how = how if how is not None and how.positions is positions else plan_gather(positions)
    if how.runs is None:
        if len(positions) == 0 or (len(positions) <= _FEW and column.num_chunks > 1):
            return _take_few(column, positions)
        return column.take(pa.array(positions))
    pieces = [column.slice(first, length) for first, length in how.runs]
    return pa.chunked_array([chunk for piece in pieces for chunk in piece.chunks],
                            type=column.type)


_FEW = 4096  # up to this many scattered positions, each is sliced from its chunk


def _take_few(column: pa.ChunkedArray, positions: np.ndarray) -> pa.ChunkedArray:
    """``column.take(positions)`` for a few positions: one-row slices of the chunks they are in.

    Why: a ``take`` over a column of hundreds of chunks (one per block pyarrow read) costs
    ~5 ms whatever the number of positions, and a ``take`` per chunk touched still ~30 us;
    the batch sample (142 rows) and an empty quarantine gather some twenty columns each.
    A slice copies nothing; the slices are concatenated once, in the positions' order.
    """
    if len(positions) == 0:
        return pa.chunked_array([pa.array([], column.type)], type=column.type)
    chunks = column.chunks
    lengths = np.fromiter((len(chunk) for chunk in chunks), np.int64, len(chunks))
    starts = np.concatenate(([0], np.cumsum(lengths)))
    if positions.min() < 0 or positions.max() >= starts[-1]:
        return column.take(pa.array(positions))  # let Arrow raise its own error
    where = np.searchsorted(starts, positions, side="right") - 1
    pieces = [chunks[chunk].slice(row, 1) for chunk, row
              in zip(where.tolist(), (positions - starts[where]).tolist(), strict=True)]
    return pa.chunked_array([pa.concat_arrays(pieces)], type=column.type)


class OrderedTables(dict[str, pa.Table]):
    """The materialised relations kept in raw-row order, by name, and the rows of each route
    asked for: an output's ORDER BY check and its filter both select the same route's rows,
    so they are found (and their runs planned) once per table and route."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[tuple[str, str], tuple[pa.Table, Gathering]] = {}

    def route_rows(self, name: str, route: str) -> Gathering:
        """The positions (and runs) of table ``name``'s rows where ``route = route``."""
        table, found = self[name], self._rows.get((name, route))
        if found is None or found[0] is not table:  # (a table replaced under the same name)
            found = (table, plan_gather(rows_where(table.column("route"), route)))
            self._rows[(name, route)] = found
        return found[1]


def route_rows(tables: dict[str, pa.Table], name: str, route: str) -> Gathering:
    """:meth:`OrderedTables.route_rows`, found afresh for a plain dict of tables."""
    if isinstance(tables, OrderedTables):
        return tables.route_rows(name, route)
    return plan_gather(rows_where(tables[name].column("route"), route))


class RawValues(Protocol):
    """Where raw values come from (``fraudpipe.etl.raw.RawRows``)."""

    def values(self, name: str, positions: np.ndarray,
               how: Gathering | None = None) -> pa.ChunkedArray: ...


def assemble(plan: LatePlan, narrow: pa.Table, raw: RawValues) -> pa.Table:
    """The statement's result: narrow columns as computed, raw ones gathered by position."""
    positions = narrow.column(POSITION).to_numpy()
    how = plan_gather(positions)
    columns = [raw.values(source, positions, how) if kind == "raw"
               else narrow.column(source) for kind, source in plan.sources]
    return pa.table(columns, names=plan.names)
