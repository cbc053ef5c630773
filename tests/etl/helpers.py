"""Small raw data sets and ways to spoil single rows, for the crawl and ETL tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from fraudpipe.data import write_kaggle_files
from fraudpipe.etl.runner import run_etl

OUTPUTS = ("training", "test", "batch", "quarantine")


def make_raw(raw_dir: Path, customers: int = 6, seed: int = 5) -> tuple[Path, Path]:
    """About 450 rows over three weeks, with a few fraud rows, in the Kaggle layout."""
    return write_kaggle_files(raw_dir, customers=customers, start="2019-01-01",
                              end="2019-01-21", seed=seed)


def set_field(path: Path, row_number: int, column: str, value: str | None) -> dict[str, str]:
    """Replace one field of data row ``row_number`` (1-based); returns the row as it was."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    fields = next(csv.reader([lines[row_number]]))
    before = dict(zip(header, fields, strict=True))
    fields[header.index(column)] = "" if value is None else value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    lines[row_number] = buffer.getvalue()
    path.write_text("".join(lines), encoding="utf-8")
    return before


def spoil_bytes(path: Path, row_number: int, transform: Any) -> None:
    """Apply ``transform(bytes) -> bytes`` to the raw line of data row ``row_number``."""
    lines = path.read_bytes().split(b"\n")
    lines[row_number] = transform(lines[row_number])
    path.write_bytes(b"\n".join(lines))


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def run(raw_dir: Path, out_dir: Path, **options: Any) -> tuple[dict[str, Any], dict[str, Path]]:
    """Run the DuckDB ETL over ``raw_dir``; returns the summary and the output paths."""
    outputs = {name: out_dir / f"{name}.csv" for name in OUTPUTS}
    params = {"raw_dir": str(raw_dir), "outputs": {k: str(v) for k, v in outputs.items()},
              "counts_path": str(out_dir / "counts.json"), "threads": 2,
              "batch": {"mode": "sample", "fraud_samples": 3, "legit_samples": 20, "seed": 42},
              **options}
    return run_etl(params), outputs
