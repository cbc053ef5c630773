"""AWS adapters: the deployed crawler and Glue job through boto3 (moto, and Stubber for the
states moto does not produce)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.moto_api import state_manager

from fraudpipe.errors import DataValidationError
from fraudpipe.etl.aws import AwsCrawler, AwsEtl, check_raw_headers
from fraudpipe.etl.locations import etl_locations
from fraudpipe.etl.steps import get_crawler_status, get_etl_status, start_crawler, start_etl
from fraudpipe.handler import parse_event
from tests.conftest import load_event
from tests.etl.helpers import make_raw

BUCKET = "fraudpipe-test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "aws")
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": "fraudpipe"})
        glue.create_crawler(Name="fraudpipe-raw-crawler", Role="arn:aws:iam::123456789012:role/g",
                            DatabaseName="fraudpipe",
                            Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/input/"}]})
        glue.create_job(Name="fraudpipe-etl", Role="arn:aws:iam::123456789012:role/g",
                        Command={"Name": "glueetl",
                                 "ScriptLocation": f"s3://{BUCKET}/glue/etl_job.py"})
        yield glue, s3


def _upload_raw(s3: Any, tmp_path: Path) -> None:
    for path in make_raw(tmp_path / "raw"):
        s3.upload_file(str(path), BUCKET, f"input/{path.name}")


def _event(name: str) -> Any:
    event = load_event(name)
    event["input"]["bucket"] = BUCKET
    return parse_event(event)


def test_crawler_runs_then_reports_ready_succeeded(aws: Any) -> None:
    glue, _ = aws
    started = start_crawler(_event("start_crawler"), glue_client=glue)
    assert started == {"crawler_name": "fraudpipe-raw-crawler", "database": "fraudpipe",
                       "table": "input", "state": "RUNNING"}
    status = get_crawler_status(_event("get_crawler_status"), glue_client=glue)
    assert (status["state"], status["last_crawl"]) == ("RUNNING", None)
    # starting while a crawl runs is not an error (a redriven execution polls that crawl)
    assert AwsCrawler(glue, "fraudpipe-raw-crawler").start("input")["state"] == "RUNNING"
    state_manager.set_transition("glue::crawl", {"progression": "immediate"})
    try:
        status = get_crawler_status(_event("get_crawler_status"), glue_client=glue)
    finally:
        state_manager.unset_transition("glue::crawl")
    assert (status["state"], status["last_crawl"], status["error"]) == (
        "READY", "SUCCEEDED", None)
    # starting while a crawl runs is not an error (redrive polls the running crawl)
    glue.start_crawler(Name="fraudpipe-raw-crawler")
    assert AwsCrawler(glue, "fraudpipe-raw-crawler").start("input")["state"] == "RUNNING"


@pytest.mark.parametrize(("crawler", "expected"), [
    ({"State": "RUNNING"}, ("RUNNING", None, None)),
    ({"State": "STOPPING", "LastCrawl": {"Status": "CANCELLED"}}, ("RUNNING", None, None)),
    ({"State": "READY", "LastCrawl": {"Status": "FAILED", "ErrorMessage": "Access denied"}},
     ("READY", "FAILED", "Access denied")),
    ({"State": "READY", "LastCrawl": {"Status": "CANCELLED"}},
     ("READY", "FAILED", "crawl cancelled")),
    ({"State": "READY", "LastCrawl": {"Status": "SUCCEEDED"}}, ("READY", "SUCCEEDED", None)),
])
def test_crawler_states_are_normalised(crawler: dict[str, Any],
                                       expected: tuple[Any, ...]) -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    with Stubber(glue) as stub:
        stub.add_response("get_crawler", {"Crawler": {"Name": "c", "DatabaseName": "db",
                                                      **crawler}}, {"Name": "c"})
        status = AwsCrawler(glue, "c").status("input")
    assert (status["state"], status["last_crawl"], status["error"]) == expected


def test_etl_job_run_gets_the_execution_arguments(aws: Any, tmp_path: Path) -> None:
    glue, s3 = aws
    _upload_raw(s3, tmp_path)
    event = _event("start_etl")
    started = start_etl(event, glue_client=glue, s3_client=s3)
    assert started["status"] == "RUNNING"
    run = glue.get_job_run(JobName="fraudpipe-etl", RunId=started["job_run_id"])["JobRun"]
    where = etl_locations(BUCKET, "input/", event.execution_name)
    assert run["Arguments"] == {
        "--raw_path": f"s3://{BUCKET}/input/", "--training_output": where.training,
        "--test_output": where.test, "--batch_output": where.batch,
        "--quarantine_output": where.quarantine, "--counts_output": where.counts,
        "--labels_path": f"s3://{BUCKET}/labels/labels.csv", "--batch_mode": "sample",
        "--fraud_samples": "12", "--legit_samples": "130", "--batch_seed": "42",
    }


def test_etl_status_reads_the_counts_the_job_wrote(aws: Any, tmp_path: Path) -> None:
    glue, s3 = aws
    _upload_raw(s3, tmp_path)
    event = _event("start_etl")
    started = start_etl(event, glue_client=glue, s3_client=s3)
    summary = {"counts": {"fraudTrain.csv": {"rows_in": 5, "rows_out": 4, "quarantined": 1,
                                             "dropped_by_cutoff": 0}},
               "output_rows": {"training": 4, "test": 0, "batch": 0, "quarantine": 1},
               "quarantine_reasons": {}, "cutoffs": {"train": None, "test": None}}
    s3.put_object(Bucket=BUCKET, Key=f"glue_transformed/{event.execution_name}/counts.json",
                  Body=json.dumps(summary).encode())
    poll = parse_event({"execution_name": event.execution_name,
                        "input": {**event.input, "etl": started}})
    statuses = []
    for _ in range(5):
        result = get_etl_status(poll, glue_client=glue, s3_client=s3)
        statuses.append(result["status"])
        if result["status"] != "RUNNING":
            break
    assert statuses[-1] == "SUCCEEDED"
    assert result["counts"] == summary["counts"]
    assert result["outputs"]["training"].endswith("/train/fraudTrain.csv")


@pytest.mark.parametrize(("state", "message", "expected"), [
    ("FAILED", "AnalysisException: column amt", "AnalysisException: column amt"),
    ("TIMEOUT", None, "job run TIMEOUT"),
    ("STOPPED", None, "job run STOPPED"),
])
def test_failed_job_runs_report_the_reason(state: str, message: str | None,
                                           expected: str) -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    run = {"Id": "jr_1", "JobRunState": state}
    if message:
        run["ErrorMessage"] = message
    with Stubber(glue) as stub:
        stub.add_response("get_job_run", {"JobRun": run},
                          {"JobName": "fraudpipe-etl", "RunId": "jr_1"})
        result = AwsEtl(glue, None, "fraudpipe-etl").status("jr_1", "s3://b/counts.json")
    assert (result["status"], result["error"]) == ("FAILED", expected)


def test_header_check_on_s3_names_missing_columns(aws: Any) -> None:
    _, s3 = aws
    s3.put_object(Bucket=BUCKET, Key="input/fraudTrain.csv", Body=b",cc_num,amt\n0,1,2.5\n")
    with pytest.raises(DataValidationError, match="lacks required columns: trans_date"):
        check_raw_headers(s3, f"s3://{BUCKET}/input/")
    s3.put_object(Bucket=BUCKET, Key="input/fraudTrain.csv", Body=b"")
    with pytest.raises(DataValidationError, match=r"fraudTrain\.csv is empty"):
        check_raw_headers(s3, f"s3://{BUCKET}/input/")
    s3.delete_object(Bucket=BUCKET, Key="input/fraudTrain.csv")
    with pytest.raises(DataValidationError, match="no CSV files"):
        check_raw_headers(s3, f"s3://{BUCKET}/input/")
