"""The runner's CSV writer gives the bytes of pyarrow's default writer."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from fraudpipe.etl.runner import _write_csv


def test_large_write_batches_change_no_byte(tmp_path: Path) -> None:
    # GIVEN values needing quotes, NULLs, non-ASCII text, over uneven chunks
    values = [None if i % 11 == 0 else f'v{i}, "q" é' if i % 7 == 0 else f"v{i}"
              for i in range(5000)]
    column = pa.chunked_array([pa.array(values[:1], pa.string()), pa.array(values[1:3000]),
                               pa.array([], pa.string()), pa.array(values[3000:])])
    table = pa.table({"a": column, "b": pa.chunked_array([pa.array(values[::-1])])})
    # WHEN written by the runner and by pyarrow's defaults
    _write_csv(table, tmp_path / "runner.csv")
    pacsv.write_csv(table, tmp_path / "default.csv")
    # THEN the files are the same, and no temporary file is left
    assert (tmp_path / "runner.csv").read_bytes() == (tmp_path / "default.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.csv", "runner.csv"]
