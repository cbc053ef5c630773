"""Reading the ETL's event files (training, test, batch) into typed arrays.

Why one reader: training, batch scoring and the benchmark must see the same parsing of
timestamps, amounts and card ids, or the history features would differ between them. Files are
read with pyarrow (fast on a 1.3M-row file) as strings and converted column by column, so a bad
value is reported with its file, row and column instead of a dtype error.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fraudpipe.errors import DataValidationError

__all__ = [
    "CATEGORICAL_VARIABLES",
    "EVENT_VARIABLES",
    "NUMERIC_VARIABLES",
    "EventFrame",
    "parse_events",
    "read_csv_strings",
    "read_csv_table",
]

#: The 14 event variables of the ETL files, in file order (docs/contracts.md).
EVENT_VARIABLES = [
    "cc_num", "merchant", "category", "amt", "first", "last", "gender", "street",
    "city", "state", "zip", "city_pop", "job", "trans_num",
]  # fmt: skip
#: Variables the model reads as numbers (missing ones are imputed with the training median).
NUMERIC_VARIABLES = ["amt", "city_pop"]
#: Variables the model reads as categories (missing ones become LightGBM's missing category).
CATEGORICAL_VARIABLES = ["category", "gender", "state"]
LABELS = {"fraud": 1, "legit": 0}


def read_csv_table(path: Path, columns: Collection[str] | None = None) -> pa.Table:
    """Every column of a CSV as Arrow strings (empty cells stay empty strings, never null);
    with ``columns``, only those of them the file has (the others are not converted)."""
    if not path.exists():
        raise DataValidationError(f"event file {path} does not exist")
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            header = next(csv.reader([handle.readline()]), [])
        if not header or header == [""]:
            raise DataValidationError(f"event file {path} is empty (no header row)")
        include = [] if columns is None else [name for name in header if name in columns]
        return pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_columns=include,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataValidationError(f"event file {path} is not a readable CSV: {exc}") from exc


def read_csv_strings(path: Path) -> pd.DataFrame:
    """Every column of a CSV as strings (empty cells stay empty strings, never NaN)."""
    return read_csv_table(path).to_pandas()


@dataclass
class EventFrame:
    """Parsed events in file order: the raw strings plus typed columns the engine needs."""

    raw: pd.DataFrame
    cards: pa.Array | pa.ChunkedArray  # card ids (trimmed strings), as Arrow
    ts: np.ndarray  # int64 seconds since the epoch (UTC); 0 where ``error`` is set
    amt: np.ndarray  # float64, NaN where missing
    numeric: dict[str, np.ndarray]  # float64 per NUMERIC_VARIABLES, NaN where missing
    label: np.ndarray | None  # int8 (1 fraud, 0 legit) when the file has EVENT_LABEL
    error: np.ndarray  # object array: None, or why the row cannot be scored

    def __len__(self) -> int:
        return len(self.raw)


def _to_number(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(numbers, invalid)`` for a column of strings (empty cells are NaN, not invalid).

    Arrow's cast is tried first (several times faster on a big file); a column with a value it
    refuses goes through pandas, which marks just the bad cells.
    """
    try:
        text = pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))
        empty_arrow = pc.equal(text, "")
        numbers_arrow = pc.cast(pc.if_else(empty_arrow, None, text), pa.float64())
        numbers = numbers_arrow.to_numpy(zero_copy_only=False)
        empty = empty_arrow.to_numpy(zero_copy_only=False)
        return numbers, np.isnan(numbers) & ~empty
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    text = values.str.strip()
    empty = (text == "").to_numpy()
    numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=float)
    return numbers, np.isnan(numbers) & ~empty


def _to_epoch_seconds(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(seconds since the epoch, invalid)`` of ISO 8601 timestamps (UTC unless they say).

    Arrow's cast is tried first: it accepts only complete timestamps with a zone
    (``2020-06-21T12:14:25Z``, ``...+01:00``), the ETL's format, and is several times faster.
    A column with any other spelling goes through pandas, which accepts every ISO 8601 form
    and marks just the bad cells; both give the same seconds where both accept (tested).
    """
    try:
        stamps = pc.cast(pa.array(values, type=pa.string()), pa.timestamp("s", tz="UTC"))
        if stamps.null_count == 0:
            seconds = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
            return seconds.astype(np.int64), np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    stamps = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    bad = stamps.isna().to_numpy()
    seconds = stamps.to_numpy(dtype="datetime64[s]", na_value=0).astype(np.int64)
    return np.where(bad, 0, seconds), bad


def parse_events(
    frame: pd.DataFrame,
    name: str,
    *,
    entity_column: str = "cc_num",
    require_label: bool = False,
    strict: bool = False,
) -> EventFrame:
    """Type the columns of an ETL file; bad rows get an ``error`` (or raise when ``strict``).

    ``strict`` (training): the first bad timestamp or label raises DataValidationError naming
    the file, the row (1-based, header is row 1) and the column. Otherwise (scoring) the row is
    marked and the others are scored.
    """
    needed = ["EVENT_TIMESTAMP", "amt"] + (["EVENT_LABEL"] if require_label else [])
    if entity_column not in frame.columns:
        entity_column = "cc_num"
    needed.append(entity_column)
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise DataValidationError(f"{name} lacks required columns {absent}")
    if len(frame) == 0:
        raise DataValidationError(f"{name} has no rows")
    error = np.full(len(frame), None, dtype=object)

    def fail(mask: np.ndarray, column: str, reason: str) -> None:
        if not mask.any():
            return
        rows = np.flatnonzero(mask & pd.isna(error))
        if strict and len(rows):
            row = int(rows[0])
            value = frame[column].iloc[row]
            raise DataValidationError(
                f"{name} row {row + 2} column {column}: {reason} ({value!r})"
            )
        error[rows] = f"{column}: {reason}"

    ts, bad_ts = _to_epoch_seconds(frame["EVENT_TIMESTAMP"])
    fail(bad_ts, "EVENT_TIMESTAMP", "not an ISO 8601 timestamp")
    cards = pa.array(frame[entity_column].str.strip(), type=pa.large_string())
    fail(pc.equal(cards, "").to_numpy(zero_copy_only=False), entity_column, "empty card id")
    numeric: dict[str, np.ndarray] = {}
    for column in NUMERIC_VARIABLES:
        if column not in frame.columns:
            numeric[column] = np.full(len(frame), np.nan)
            continue
        numeric[column], invalid = _to_number(frame[column])
        fail(invalid, column, "not a number")
    label = None
    if "EVENT_LABEL" in frame.columns and (require_label or strict):
        mapped = frame["EVENT_LABEL"].str.strip().str.lower().map(LABELS)
        bad_label = mapped.isna().to_numpy()
        fail(bad_label, "EVENT_LABEL", "must be 'fraud' or 'legit'")
        label = mapped.fillna(0).to_numpy(dtype=np.int8)
    return EventFrame(
        raw=frame,
        cards=cards,
        ts=ts,
        amt=numeric["amt"],
        numeric=numeric,
        label=label,
        error=error,
    )
