"""The Kaggle "Credit Card Transactions Fraud Detection" layout: build, split and write it.

Why Arrow: string columns (names, timestamps, 32-hex ids) for ~1.85M rows are built with
Arrow's vectorised kernels (``take``, ``strftime``, buffers) and written by DuckDB's parallel
CSV writer, which keeps generation well above 100k rows/s. The files are byte-for-byte a
function of the arguments: the same seed gives identical files.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudpipe.data.customers import Customers, make_customers
from fraudpipe.data.reference import CATEGORIES
from fraudpipe.data.transactions import Transactions, make_merchants, make_transactions

__all__ = [
    "DEFAULT_CUSTOMERS",
    "INDEX_COLUMN",
    "KAGGLE_COLUMNS",
    "TRAIN_SHARE",
    "generate_kaggle_frames",
    "generate_kaggle_tables",
    "write_kaggle_files",
]

#: Customers (cards) giving about 1.85M rows over 2019-01-01..2020-12-31, like the public files.
DEFAULT_CUSTOMERS = 1000
#: The first 70% of rows by time go to fraudTrain.csv, the rest to fraudTest.csv.
TRAIN_SHARE = 0.7
#: What pandas calls the unnamed index column when it reads the files.
INDEX_COLUMN = "Unnamed: 0"
KAGGLE_COLUMNS: tuple[str, ...] = (
    "trans_date_trans_time", "cc_num", "merchant", "category", "amt", "first", "last", "gender",
    "street", "city", "state", "zip", "lat", "long", "city_pop", "job", "dob", "trans_num",
    "unix_time", "merch_lat", "merch_long", "is_fraud",
)
_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint16)


def _date(value: str | dt.date) -> np.datetime64:
    try:
        return np.datetime64(dt.date.fromisoformat(str(value)), "D")
    except ValueError as exc:
        raise ValueError(f"dates must be YYYY-MM-DD, got {value!r}") from exc


def _trans_nums(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random 32-character lowercase hex ids, built as one Arrow buffer."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    chars = _HEX[raw].view(np.uint8).reshape(n, 32)
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _digits(out: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` as zero-padded decimal digits into ``out[:, column:column+width]``."""
    for position in range(width - 1, -1, -1):
        out[:, column + position] = 48 + values % 10
        values = values // 10


def _timestamps(unix_time: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` strings built digit by digit (Arrow's strftime is ~10x slower)."""
    n = len(unix_time)
    days = unix_time // 86400
    dates = days.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    out = np.empty((n, 19), dtype=np.uint8)
    _digits(out, 0, years.astype(np.int64) + 1970, 4)
    _digits(out, 5, months.astype(np.int64) % 12 + 1, 2)
    _digits(out, 8, (dates - months).astype(np.int64) + 1, 2)
    seconds = unix_time - days * 86400
    _digits(out, 11, seconds // 3600, 2)
    _digits(out, 14, seconds // 60 % 60, 2)
    _digits(out, 17, seconds % 60, 2)
    out[:, [4, 7]] = ord("-")
    out[:, 10] = ord(" ")
    out[:, [13, 16]] = ord(":")
    offsets = np.arange(0, 19 * (n + 1), 19, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()))


def _take(values: list[str], index: pa.Array) -> pa.Array:
    return pa.array(values, type=pa.string()).take(index)


def _table(rng: np.random.Generator, people: Customers, rows: Transactions,
           merchants: list[str]) -> pa.Table:
    who = pa.array(rows.customer)
    dob = pc.strftime(pa.array(people.dob, type=pa.date32()), format="%Y-%m-%d")
    columns = {
        "trans_date_trans_time": _timestamps(rows.unix_time),
        "cc_num": pa.array(people.cc_num[rows.customer]),
        "merchant": _take(merchants, pa.array(rows.merchant)),
        "category": _take(list(CATEGORIES), pa.array(rows.category)),
        "amt": pa.array(rows.amt),
        "first": _take(people.first, who),
        "last": _take(people.last, who),
        "gender": pa.array(people.gender).take(who),
        "street": _take(people.street, who),
        "city": _take(people.city, who),
        "state": _take(people.state, who),
        "zip": pa.array(people.zip[rows.customer]),
        "lat": pa.array(people.lat[rows.customer]),
        "long": pa.array(people.long[rows.customer]),
        "city_pop": pa.array(people.city_pop[rows.customer]),
        "job": _take(people.job, who),
        "dob": dob.take(who),
        "trans_num": _trans_nums(rng, len(rows.customer)),
        "unix_time": pa.array(rows.unix_time),
        "merch_lat": pa.array(rows.merch_lat),
        "merch_long": pa.array(rows.merch_long),
        "is_fraud": pa.array(rows.is_fraud),
    }
    return pa.table(columns)


def _with_index(table: pa.Table) -> pa.Table:
    index = pa.array(np.arange(table.num_rows, dtype=np.int64))
    return table.add_column(0, INDEX_COLUMN, index)


def generate_kaggle_tables(customers: int = DEFAULT_CUSTOMERS, start: str = "2019-01-01",
                           end: str = "2020-12-31", seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """(train, test) Arrow tables in the Kaggle layout, index column first (restarting at 0)."""
    first, last = _date(start), _date(end)
    if last < first:
        raise ValueError(f"end {end} is before start {start}")
    days = int((last - first).astype(np.int64)) + 1
    rng = np.random.default_rng(seed)
    people = make_customers(rng, customers, first)
    merchants = make_merchants(rng)
    rows = make_transactions(rng, people, merchants, first, days)
    table = _table(rng, people, rows, merchants.names)
    cut = round(table.num_rows * TRAIN_SHARE)
    return _with_index(table.slice(0, cut)), _with_index(table.slice(cut))


def generate_kaggle_frames(customers: int = DEFAULT_CUSTOMERS, start: str = "2019-01-01",
                           end: str = "2020-12-31", seed: int = 0
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train_df, test_df) as pandas reads the written files (index column ``Unnamed: 0``)."""
    train, test = generate_kaggle_tables(customers, start, end, seed)
    return _to_pandas(train), _to_pandas(test)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for name in frame.columns:
        if pa.types.is_string(table.schema.field(name).type):
            frame[name] = frame[name].astype("str")
    return frame


def _write_csv(table: pa.Table, path: Path) -> None:
    """Write like the public files: empty first header name, quotes only where needed.

    DuckDB's CSV writer quotes minimally (Arrow's quotes every string) and keeps row order; the
    header is written separately because DuckDB refuses an empty column name.
    """
    body = path.with_name(f".{path.name}.body")
    tmp = path.with_name(f".{path.name}.tmp")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("rows_to_write", table)
        con.execute(f"COPY rows_to_write TO '{body}' (HEADER false, DELIMITER ',')")
    finally:
        con.close()
    with tmp.open("wb") as sink, body.open("rb") as source:
        sink.write((",".join(["", *KAGGLE_COLUMNS]) + "\n").encode())
        shutil.copyfileobj(source, sink, 16 << 20)
    body.unlink()
    tmp.replace(path)


def write_kaggle_files(out_dir: str | Path, customers: int = DEFAULT_CUSTOMERS,
                       start: str = "2019-01-01", end: str = "2020-12-31",
                       seed: int = 0) -> tuple[Path, Path]:
    """Write ``fraudTrain.csv`` and ``fraudTest.csv`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, test = generate_kaggle_tables(customers, start, end, seed)
    paths = out / "fraudTrain.csv", out / "fraudTest.csv"
    for table, path in zip((train, test), paths, strict=True):
        _write_csv(table, path)
    return paths
