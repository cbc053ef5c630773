"""Parity: the Glue job script under local PySpark gives DuckDB's rows, row for row."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.etl.helpers import OUTPUTS, make_raw, read, run, set_field, spoil_bytes

JOB = Path(__file__).resolve().parents[2] / "glue" / "etl_job.py"

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="local Spark needs Java"),
]


def _spoil(raw: Path) -> None:
    """One row of each kind the ETL must quarantine, in both files."""
    train, test = raw / "fraudTrain.csv", raw / "fraudTest.csv"
    set_field(train, 3, "amt", "abc")
    set_field(train, 8, "amt", "-12.00")
    set_field(train, 12, "trans_date_trans_time", "yesterday")
    set_field(train, 20, "is_fraud", None)
    set_field(train, 25, "is_fraud", "2")
    set_field(train, 33, "job", "  Chef, pastry  ")  # values pass through untouched
    duplicate = read(train).iloc[30]["trans_num"]
    set_field(test, 7, "trans_num", duplicate)
    set_field(test, 30, "amt", "1e999")  # still data row 30 after the blank line below
    spoil_bytes(test, 11, lambda line: line.replace(b"fraud_", b"fraud_\xe9", 1))
    spoil_bytes(test, 15, lambda line: line + b",extra")
    spoil_bytes(test, 19, lambda line: line.rsplit(b",", 2)[0])
    lines = test.read_bytes().split(b"\n")
    lines.insert(25, b"")  # a blank line is no row: later rows keep their numbers
    test.write_bytes(b"\n".join(lines))


def test_spark_job_equals_duckdb(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    make_raw(raw, customers=5, seed=9)
    _spoil(raw)
    legit = read(raw / "fraudTrain.csv").query("is_fraud == '0'").iloc[40]["trans_num"]
    labels = tmp_path / "labels.csv"
    labels.write_text("EVENT_ID,EVENT_LABEL,LABEL_TIMESTAMP,source\n"
                      f"{legit},fraud,2019-03-01T00:00:00Z,review\n")
    options = {"train_cutoff": "2019-01-12T00:00:00Z", "test_cutoff": None}
    duck_summary, duck = run(raw, tmp_path / "duck", labels_path=str(labels), **options)

    spark_dir = tmp_path / "spark"
    args = [sys.executable, str(JOB), "--raw_path", str(raw), "--labels_path", str(labels),
            "--train_cutoff", options["train_cutoff"], "--batch_mode", "sample",
            "--fraud_samples", "3", "--legit_samples", "20", "--batch_seed", "42",
            "--counts_output", str(spark_dir / "counts.json")]
    for name in OUTPUTS:
        args += [f"--{name}_output", str(spark_dir / f"{name}.csv")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]

    for name in ("training", "test", "batch"):
        ours, theirs = read(duck[name]), read(spark_dir / f"{name}.csv")
        assert list(ours.columns) == list(theirs.columns), name
        assert ours.values.tolist() == theirs.values.tolist(), name
    key = ["source_file", "row_number", "reason"]
    ours, theirs = read(duck["quarantine"]), read(spark_dir / "quarantine.csv")
    assert ours[key].values.tolist() == theirs[key].values.tolist()
    amounts = ours[ours["reason"] == "unparseable amount"][["source_file", "row_number"]]
    assert sorted(amounts.values.tolist()) == [["fraudTest.csv", "30"], ["fraudTrain.csv", "3"]]
    assert sorted(ours["reason"]) == sorted([
        "unparseable amount", "unparseable amount", "negative amount", "unparseable timestamp",
        "missing label", "unknown label", "duplicate trans_num", "invalid UTF-8",
        "malformed CSV row", "malformed CSV row"])
    spark_summary = json.loads((spark_dir / "counts.json").read_text())
    for field in ("counts", "output_rows", "quarantine_reasons", "cutoffs"):
        assert spark_summary[field] == duck_summary[field], field
    training = read(duck["training"]).set_index("trans_num")
    assert training.loc[legit, "EVENT_LABEL"] == "fraud"
    assert "  Chef, pastry  " in set(training["job"])
