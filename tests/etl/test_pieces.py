"""Clean files read as pieces give the rows of the whole-file read; other files are declined."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import fraudpipe.etl.raw as raw_module
from fraudpipe.etl.arrow_read import read_raw_csv
from fraudpipe.etl.pieces import read_pieces
from fraudpipe.etl.raw import inspect_files
from tests.etl.helpers import OUTPUTS, make_raw, run, set_field, spoil_bytes

SMALL = 2000  # bytes per piece: the ~100 kB test files make dozens of pieces


def _pieces(folder: Path) -> list[pa.Table | None]:
    files = inspect_files(folder)
    return read_pieces([(f.path, f.columns, f.columns) for f in files], threads=2, size=SMALL)


def test_pieces_equal_the_whole_file_read(tmp_path: Path) -> None:
    # GIVEN clean files with quoted values (commas, quotes) and valid non-ASCII text
    folder = tmp_path / "raw"
    make_raw(folder)
    set_field(folder / "fraudTrain.csv", 40, "city", 'São Paulo, "centro"')
    set_field(folder / "fraudTrain.csv", 41, "job", "Engineer, \"civil\"")
    # WHEN read as small pieces and whole
    tables = _pieces(folder)
    # THEN every file was read piecewise, with the rows and values of the whole read
    for table, raw in zip(tables, inspect_files(folder), strict=True):
        assert table is not None
        whole = read_raw_csv(raw.path, raw.columns).table.drop_columns(
            ["row_number", "bad_encoding", "malformed"])
        assert table.equals(whole)


@pytest.mark.parametrize("spoil", [
    lambda line: line + b",surplus",                       # wrong number of fields
    lambda line: b"\n" + line,                             # a blank line
    lambda line: line.replace(b"fraud_", b"fraud_\xc3", 1),  # invalid UTF-8
    lambda line: line.replace(b",", b',"two\nlines",', 1)[:-2],  # a newline in a value
])
def test_unclean_files_are_declined(tmp_path: Path, spoil: object) -> None:
    folder = tmp_path / "raw"
    make_raw(folder)
    spoil_bytes(folder / "fraudTest.csv", 30, spoil)
    test, train = _pieces(folder)  # in name order
    assert train is not None and test is None


def test_cut_inside_a_quoted_value_is_declined(tmp_path: Path) -> None:
    # GIVEN a value holding a newline right where a piece would end
    folder = tmp_path / "raw"
    make_raw(folder)
    path = folder / "fraudTest.csv"
    data = path.read_bytes()
    cut = data.index(b"\n", SMALL) + 1
    line_end = data.index(b"\n", cut)
    spoiled = data[:cut - 1] + b',"x\n' + data[cut:line_end] + b'"' + data[line_end:]
    path.write_bytes(spoiled)
    # WHEN read in pieces THEN the file is left to the whole-file read
    assert _pieces(folder)[0] is None  # fraudTest.csv comes first by name


def test_etl_output_is_the_same_read_in_pieces_or_whole(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "raw"
    make_raw(folder)
    set_field(folder / "fraudTrain.csv", 5, "amt", "-1")
    monkeypatch.setattr(raw_module, "read_pieces",
                        lambda files, derive: read_pieces(files, 2, SMALL, derive))
    pieces_summary, pieces = run(folder, tmp_path / "pieces")
    monkeypatch.setattr(raw_module, "read_pieces", lambda files, derive: [None] * len(files))
    whole_summary, whole = run(folder, tmp_path / "whole")
    for name in OUTPUTS:
        assert pieces[name].read_bytes() == whole[name].read_bytes(), name
    assert pieces_summary["counts"] == whole_summary["counts"]
