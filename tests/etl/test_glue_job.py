"""The engine-independent half of glue/etl_job.py: statements, parameters, headers, storage."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from glue.etl_job import (
    OUTPUTS,
    EtlInputError,
    check_header,
    list_csv,
    load_statements,
    parse_arguments,
    read_head,
    read_text,
    render,
    timestamp_literal,
    write_text,
)


def test_sql_file_holds_the_statements_in_order() -> None:
    statements = load_statements()
    names = [s.name for s in statements]
    assert names[:5] == ["latest_labels", "repeated_hashes", "duplicates", "parsed",
                         "classified"]
    outputs = {s.name for s in statements if "output" in s.flags}
    assert outputs == {"training", "test", "batch_full", "batch_sample", "quarantine"}
    assert {s.name for s in statements if "materialize" in s.flags} == {
        "repeated_hashes", "duplicates", "cutoffs", "routed"}
    assert all(not s.sql.rstrip().endswith(";") for s in statements)
    assert set(OUTPUTS) == {"training", "test", "batch", "quarantine"}


def test_render_refuses_unknown_parameters() -> None:
    assert render("SELECT {{a}} + {{a}}", {"a": "1"}) == "SELECT 1 + 1"
    with pytest.raises(KeyError, match="needs parameter 'b'"):
        render("SELECT {{b}}", {})


def test_cutoffs_become_utc_timestamp_literals() -> None:
    assert timestamp_literal("2020-06-21T12:00:00Z") == (
        "CAST('2020-06-21 12:00:00' AS TIMESTAMP)")
    assert timestamp_literal("2020-06-21T14:00:00+02:00") == (
        "CAST('2020-06-21 12:00:00' AS TIMESTAMP)")
    assert timestamp_literal(None) is None and timestamp_literal("") is None
    with pytest.raises(EtlInputError, match="not an ISO 8601"):
        timestamp_literal("yesterday'; DROP TABLE x; --")


def test_header_checks() -> None:
    header = (b",trans_date_trans_time,cc_num,merchant,category,amt,first,last,gender,street,"
              b"city,state,zip,city_pop,job,trans_num,is_fraud")
    assert check_header("f.csv", header)[0] == "Unnamed: 0"
    with pytest.raises(EtlInputError, match=r"f\.csv is empty"):
        check_header("f.csv", b"")
    with pytest.raises(EtlInputError, match="repeats columns: amt"):
        check_header("f.csv", header + b",amt")
    with pytest.raises(EtlInputError, match="lacks required columns: job, is_fraud"):
        check_header("f.csv", header.replace(b",job", b"").replace(b",is_fraud", b""))


def test_arguments_without_glue_use_argparse() -> None:
    argv = ["etl_job.py", "--raw_path", "s3://b/input/", "--training_output", "t",
            "--test_output", "u", "--batch_output", "v", "--quarantine_output", "w",
            "--counts_output", "c", "--batch_mode", "full", "--fraud_samples", "1",
            "--legit_samples", "2", "--batch_seed", "3", "--JOB_ID", "ignored"]
    args = parse_arguments(argv)
    assert args["raw_path"] == "s3://b/input/" and args["batch_mode"] == "full"
    assert args["train_cutoff"] == "" and args["labels_path"] == ""
    with pytest.raises(SystemExit):
        parse_arguments(["etl_job.py", "--raw_path", "x"])


def test_s3_storage_helpers() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="glue-bucket")
        for key in ("input/fraudTrain.csv", "input/fraudTest.csv", "input/old/x.csv",
                    "input/notes.txt"):
            s3.put_object(Bucket="glue-bucket", Key=key, Body=b"a,b\n1,2\n")
        assert list_csv("s3://glue-bucket/input/") == [
            ("fraudTest.csv", "s3://glue-bucket/input/fraudTest.csv"),
            ("fraudTrain.csv", "s3://glue-bucket/input/fraudTrain.csv")]
        assert read_head("s3://glue-bucket/input/fraudTest.csv", 3) == b"a,b"
        write_text("s3://glue-bucket/out/counts.json", "{}")
        assert read_text("s3://glue-bucket/out/counts.json") == "{}"
