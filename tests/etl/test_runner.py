"""The DuckDB ETL: contract layouts, cutoffs, batch sampling, quarantine and counts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fraudpipe.errors import DataValidationError, EtlError
from tests.etl.helpers import make_raw, read, run, set_field, spoil_bytes

VARIABLES = ["cc_num", "merchant", "category", "amt", "first", "last", "gender", "street",
             "city", "state", "zip", "city_pop", "job", "trans_num"]
TRAINING = [*VARIABLES, "EVENT_TIMESTAMP", "EVENT_LABEL"]
TEST = [*VARIABLES, "EVENT_TIMESTAMP", "ENTITY_TYPE", "ENTITY_ID", "EVENT_ID", "EVENT_LABEL"]
BATCH = [*VARIABLES, "EVENT_TIMESTAMP", "ENTITY_TYPE", "ENTITY_ID", "EVENT_ID"]
ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    make_raw(folder)
    return folder


def _invariant(summary: dict) -> None:
    for name, c in summary["counts"].items():
        assert c["rows_in"] == c["rows_out"] + c["quarantined"] + c["dropped_by_cutoff"], name


def test_outputs_follow_the_contract(raw: Path, tmp_path: Path) -> None:
    summary, out = run(raw, tmp_path / "out")
    training, test, batch = (read(out[k]) for k in ("training", "test", "batch"))
    assert list(training.columns) == TRAINING
    assert list(test.columns) == TEST
    assert list(batch.columns) == BATCH
    for frame in (training, test, batch):
        assert frame["EVENT_TIMESTAMP"].str.fullmatch(ISO).all()
        assert frame["EVENT_TIMESTAMP"].is_monotonic_increasing
    assert set(training["EVENT_LABEL"]) == {"fraud", "legit"} or set(
        training["EVENT_LABEL"]) == {"legit"}
    assert (test["ENTITY_TYPE"] == "card").all()
    assert (test["ENTITY_ID"] == test["cc_num"]).all()
    assert (test["EVENT_ID"] == test["trans_num"]).all()
    # default cutoff: the first timestamp of fraudTest.csv, for both sides
    raw_test = read(raw / "fraudTest.csv")
    first = raw_test["trans_date_trans_time"].min().replace(" ", "T") + "Z"
    assert summary["cutoffs"] == {"train": first, "test": first}
    assert training["EVENT_TIMESTAMP"].max() < first <= test["EVENT_TIMESTAMP"].min()
    assert len(test) == len(raw_test)
    # labels mapped from is_fraud
    merged = test.merge(raw_test, on="trans_num")
    assert (merged["EVENT_LABEL"] == merged["is_fraud"].map({"1": "fraud", "0": "legit"})).all()
    assert summary["output_rows"] == {"training": len(training), "test": len(test),
                                      "batch": len(batch), "quarantine": 0}
    _invariant(summary)
    assert json.loads((tmp_path / "out" / "counts.json").read_text())["counts"] == summary[
        "counts"]


def test_batch_sample_is_deterministic_and_balanced(raw: Path, tmp_path: Path) -> None:
    _, out = run(raw, tmp_path / "a")
    _, again = run(raw, tmp_path / "b")
    _, other = run(raw, tmp_path / "c", batch={"mode": "sample", "fraud_samples": 3,
                                              "legit_samples": 20, "seed": 7})
    batch = read(out["batch"])
    assert batch.equals(read(again["batch"]))
    assert not batch.equals(read(other["batch"]))
    labels = read(out["test"]).set_index("EVENT_ID")["EVENT_LABEL"]
    drawn = labels.loc[batch["EVENT_ID"]].value_counts()
    fraud_available = int((labels == "fraud").sum())
    assert drawn.get("fraud", 0) == min(3, fraud_available)
    assert drawn["legit"] == 20


def test_batch_full_is_the_test_file_without_label(raw: Path, tmp_path: Path) -> None:
    _, out = run(raw, tmp_path / "out", batch={"mode": "full"})
    test, batch = read(out["test"]), read(out["batch"])
    pd.testing.assert_frame_equal(batch, test.drop(columns="EVENT_LABEL"))


def test_explicit_cutoffs_drop_the_rows_between(raw: Path, tmp_path: Path) -> None:
    summary, out = run(raw, tmp_path / "out", train_cutoff="2019-01-08T00:00:00Z",
                       test_cutoff="2019-01-15T00:00:00Z")
    training, test = read(out["training"]), read(out["test"])
    assert training["EVENT_TIMESTAMP"].max() < "2019-01-08T00:00:00Z"
    assert test["EVENT_TIMESTAMP"].min() >= "2019-01-15T00:00:00Z"
    dropped = sum(c["dropped_by_cutoff"] for c in summary["counts"].values())
    raw_rows = pd.concat([read(raw / "fraudTrain.csv"), read(raw / "fraudTest.csv")])
    between = raw_rows["trans_date_trans_time"].between("2019-01-08", "2019-01-15",
                                                        inclusive="left")
    assert dropped == int(between.sum()) > 0
    assert summary["cutoffs"] == {"train": "2019-01-08T00:00:00Z",
                                  "test": "2019-01-15T00:00:00Z"}
    _invariant(summary)


def test_train_cutoff_after_test_cutoff_is_refused(raw: Path, tmp_path: Path) -> None:
    with pytest.raises(EtlError, match="after test_cutoff"):
        run(raw, tmp_path / "out", train_cutoff="2019-01-15T00:00:00Z",
            test_cutoff="2019-01-08T00:00:00Z")


BAD_FIELDS = [
    ("amt", "12,50 USD", "unparseable amount"),
    ("amt", "-4.20", "negative amount"),
    ("trans_date_trans_time", "2019-02-30 25:00:00", "unparseable timestamp"),
    ("is_fraud", None, "missing label"),
    ("is_fraud", "maybe", "unknown label"),
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD_FIELDS,
                         ids=[r for _, _, r in BAD_FIELDS])
def test_bad_field_goes_to_quarantine(raw: Path, tmp_path: Path, column: str,
                                      value: str | None, reason: str) -> None:
    original = set_field(raw / "fraudTrain.csv", 17, column, value)
    summary, out = run(raw, tmp_path / "out")
    quarantine = read(out["quarantine"])
    assert len(quarantine) == 1
    row = quarantine.iloc[0]
    assert (row["reason"], row["source_file"], row["row_number"]) == (
        reason, "fraudTrain.csv", "17")
    assert row["trans_num"] == original["trans_num"]
    assert row[column] == ("" if value is None else value)
    assert list(quarantine.columns[-3:]) == ["source_file", "row_number", "reason"]
    assert original["trans_num"] not in set(read(out["training"])["trans_num"])
    assert summary["counts"]["fraudTrain.csv"]["quarantined"] == 1
    assert summary["quarantine_reasons"] == {"fraudTrain.csv": {reason: 1}}
    _invariant(summary)


def test_duplicate_trans_num_keeps_the_first(raw: Path, tmp_path: Path) -> None:
    first = read(raw / "fraudTrain.csv").iloc[4]
    set_field(raw / "fraudTrain.csv", 30, "trans_num", first["trans_num"])
    summary, out = run(raw, tmp_path / "out")
    quarantine = read(out["quarantine"])
    assert quarantine[["row_number", "reason"]].values.tolist() == [
        ["30", "duplicate trans_num"]]
    training = read(out["training"])
    kept = training[training["trans_num"] == first["trans_num"]]
    assert len(kept) == 1 and kept.iloc[0]["amt"] == first["amt"]
    _invariant(summary)


def test_invalid_utf8_and_malformed_rows_keep_their_row_numbers(raw: Path,
                                                               tmp_path: Path) -> None:
    path = raw / "fraudTest.csv"
    set_field(path, 40, "amt", "-1")
    spoil_bytes(path, 5, lambda line: line.replace(b"fraud_", b"fraud_\xff\xfe", 1))
    spoil_bytes(path, 9, lambda line: line + b",surplus")
    spoil_bytes(path, 12, lambda line: line.rsplit(b",", 3)[0])  # three fields short
    summary, out = run(raw, tmp_path / "out")
    quarantine = read(out["quarantine"])
    assert quarantine[["source_file", "row_number", "reason"]].values.tolist() == [
        ["fraudTest.csv", "5", "invalid UTF-8"],
        ["fraudTest.csv", "9", "malformed CSV row"],
        ["fraudTest.csv", "12", "malformed CSV row"],
        ["fraudTest.csv", "40", "negative amount"],
    ]
    spoilt = quarantine.iloc[0]
    assert spoilt["merchant"].startswith("fraud_") and spoilt["trans_num"]
    counts = summary["counts"]["fraudTest.csv"]
    assert counts["quarantined"] == 4
    assert counts["rows_in"] == len(path.read_bytes().strip().split(b"\n")) - 1
    _invariant(summary)
    test_rows = read(out["test"])
    assert len(test_rows) == counts["rows_out"]


def test_human_labels_override_the_original_label(raw: Path, tmp_path: Path) -> None:
    legit = read(raw / "fraudTrain.csv").query("is_fraud == '0'").iloc[:2]
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "EVENT_ID,EVENT_LABEL,LABEL_TIMESTAMP,source\n"
        f"{legit.iloc[0]['trans_num']},legit,2019-02-01T00:00:00Z,review\n"
        f"{legit.iloc[0]['trans_num']},fraud,2019-02-02T00:00:00Z,review\n"
        f"{legit.iloc[1]['trans_num']},fraud,2019-02-01T00:00:00Z,review\n")
    _, out = run(raw, tmp_path / "out", labels_path=str(labels))
    training = read(out["training"]).set_index("trans_num")
    assert training.loc[legit["trans_num"], "EVENT_LABEL"].tolist() == ["fraud", "fraud"]
    _, plain = run(raw, tmp_path / "plain")
    assert read(plain["training"]).set_index("trans_num").loc[
        legit["trans_num"], "EVENT_LABEL"].tolist() == ["legit", "legit"]


def test_missing_required_columns_are_listed(raw: Path, tmp_path: Path) -> None:
    frame = read(raw / "fraudTrain.csv").drop(columns=["amt", "is_fraud"])
    frame.to_csv(raw / "fraudTrain.csv", index=False)
    with pytest.raises(DataValidationError,
                       match=r"fraudTrain\.csv lacks required columns: amt, is_fraud"):
        run(raw, tmp_path / "out")


def test_empty_file_fails_with_a_clear_cause(raw: Path, tmp_path: Path) -> None:
    (raw / "fraudTest.csv").write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"fraudTest\.csv is empty"):
        run(raw, tmp_path / "out")


def test_header_only_file_fails_with_a_clear_cause(raw: Path, tmp_path: Path) -> None:
    header = (raw / "fraudTest.csv").read_text().splitlines()[0]
    (raw / "fraudTest.csv").write_text(header + "\n")
    with pytest.raises(DataValidationError, match=r"fraudTest\.csv has a header but no data"):
        run(raw, tmp_path / "out")


def test_no_raw_files(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    with pytest.raises(DataValidationError, match="no CSV files"):
        run(tmp_path / "raw", tmp_path / "out")


def test_labels_file_edge_cases(raw: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("EVENT_ID,EVENT_LABEL,LABEL_TIMESTAMP,source\n")  # header only
    summary, _ = run(raw, tmp_path / "a", labels_path=str(labels))
    assert summary["output_rows"]["training"] > 0
    labels.write_text("EVENT_ID,verdict\nabc,fraud\n")
    with pytest.raises(DataValidationError, match="lacks columns: EVENT_LABEL"):
        run(raw, tmp_path / "b", labels_path=str(labels))


def test_blank_trans_num_is_missing_but_spaced_ids_are_kept(raw: Path, tmp_path: Path) -> None:
    set_field(raw / "fraudTrain.csv", 17, "trans_num", "   ")
    set_field(raw / "fraudTrain.csv", 18, "trans_num", None)
    set_field(raw / "fraudTrain.csv", 19, "trans_num", " id-with-a-space")
    summary, out = run(raw, tmp_path / "out")
    quarantine = read(out["quarantine"])
    assert quarantine[["row_number", "reason"]].values.tolist() == [
        ["17", "missing trans_num"], ["18", "missing trans_num"]]
    assert " id-with-a-space" in set(read(out["training"])["trans_num"])
    _invariant(summary)
