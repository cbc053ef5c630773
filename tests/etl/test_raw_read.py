"""The Arrow read of the raw files: columns not loaded, blank lines, non-ASCII text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.etl.helpers import make_raw, read, run, set_field, spoil_bytes


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    make_raw(folder)
    return folder


def test_quarantine_keeps_every_raw_column(raw: Path, tmp_path: Path) -> None:
    # GIVEN a bad value in a row pyarrow accepts and a line it sets aside (one field too many)
    originals = read(raw / "fraudTest.csv")
    set_field(raw / "fraudTest.csv", 6, "amt", "-3.00")
    spoil_bytes(raw / "fraudTest.csv", 9, lambda line: line + b",surplus")
    # WHEN the ETL runs (it loads only the columns the SQL reads)
    _, out = run(raw, tmp_path / "out")
    quarantine = read(out["quarantine"])
    # THEN both rows carry all their raw values, the unloaded columns too
    assert quarantine["row_number"].tolist() == ["6", "9"]
    for _, row in quarantine.iterrows():
        original = originals.iloc[int(row["row_number"]) - 1]
        for column in ("Unnamed: 0", "lat", "long", "dob", "unix_time", "merch_lat"):
            assert row[column] == original[column], column
    assert quarantine.iloc[0]["amt"] == "-3.00"


def test_blank_lines_are_not_rows(raw: Path, tmp_path: Path) -> None:
    path = raw / "fraudTest.csv"
    rows_before = len(read(path))
    lines = path.read_bytes().split(b"\n")
    lines[10:10] = [b"", b"\r"]  # two blank lines before data row 10
    path.write_bytes(b"\n".join(lines))
    twentieth = read(path).iloc[19]  # pandas skips blank lines too
    spoil_bytes(path, 22, lambda line: line.rsplit(b",", 1)[0] + b",7")  # data row 20
    summary, out = run(raw, tmp_path / "out")
    counts = summary["counts"]["fraudTest.csv"]
    assert counts["rows_in"] == rows_before
    quarantine = read(out["quarantine"])
    assert quarantine[["row_number", "reason"]].values.tolist() == [["20", "unknown label"]]
    assert quarantine.iloc[0]["trans_num"] == twentieth["trans_num"]
    assert quarantine.iloc[0]["lat"] == twentieth["lat"]


def test_valid_non_ascii_text_passes_through(raw: Path, tmp_path: Path) -> None:
    set_field(raw / "fraudTrain.csv", 4, "first", "Zoë")
    set_field(raw / "fraudTrain.csv", 5, "city", "São Paulo, \"centro\"")
    spoil_bytes(raw / "fraudTrain.csv", 7, lambda line: line.replace(b"fraud_", b"fraud_\xc3", 1))
    summary, out = run(raw, tmp_path / "out")
    training = read(out["training"])
    assert "Zoë" in set(training["first"])
    assert 'São Paulo, "centro"' in set(training["city"])
    quarantine = read(out["quarantine"])
    assert quarantine[["row_number", "reason"]].values.tolist() == [["7", "invalid UTF-8"]]
    assert "\ufffd" in quarantine.iloc[0]["merchant"]
    assert summary["counts"]["fraudTrain.csv"]["quarantined"] == 1
