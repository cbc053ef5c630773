"""Gathering raw values by position gives Arrow's ``take`` result, whatever the path."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fraudpipe.etl.late import gather


def _column(seed: int) -> pa.ChunkedArray:
    """Hundreds of chunks of uneven length (some empty), with NULLs, like a pyarrow read."""
    rng = np.random.default_rng(seed)
    return pa.chunked_array([pa.array([None if (i + j) % 7 == 0 else f"v{i}_{j}"
                                       for j in range(rng.integers(0, 50))], pa.string())
                             for i in range(300)])


@pytest.mark.parametrize("count", [0, 1, 5, 142, 1000, 6000])
def test_gather_equals_take(count: int) -> None:
    column = _column(count)
    positions = np.random.default_rng(count).integers(0, len(column), count)
    gathered = gather(column, positions)
    assert gathered.type == column.type
    assert gathered.to_pylist() == column.take(pa.array(positions, pa.int64())).to_pylist()


def test_gather_of_runs_and_out_of_range() -> None:
    column = _column(3)
    runs = np.r_[10:400, 500:len(column)]
    assert gather(column, runs).to_pylist() == column.take(pa.array(runs)).to_pylist()
    scattered = np.r_[np.arange(0, 500, 5), len(column)]  # the last one is past the end
    with pytest.raises(IndexError):
        gather(column, scattered)
