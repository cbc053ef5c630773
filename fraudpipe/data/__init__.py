"""Synthetic card transactions in the layout of the public Kaggle "fraudTrain/fraudTest" files."""

from __future__ import annotations

from fraudpipe.data.kaggle import (
    DEFAULT_CUSTOMERS,
    KAGGLE_COLUMNS,
    generate_kaggle_frames,
    generate_kaggle_tables,
    write_kaggle_files,
)

__all__ = [
    "DEFAULT_CUSTOMERS",
    "KAGGLE_COLUMNS",
    "generate_kaggle_frames",
    "generate_kaggle_tables",
    "write_kaggle_files",
]
