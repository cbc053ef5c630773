"""The four handlers on the local backend: canonical events in, contract results out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fraudpipe.errors import DataValidationError
from fraudpipe.workspace import Workspace
from functions import get_crawler_status, get_etl_status, start_crawler, start_etl
from tests.conftest import load_event
from tests.etl.helpers import make_raw, read


@pytest.fixture(autouse=True)
def _local(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "local")
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")
    with mock_aws():
        yield


def _poll(call: Callable[[], dict[str, Any]], key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        result = call()
        if result[key] != "RUNNING":
            return result
        time.sleep(0.02)
    raise AssertionError("still RUNNING")


def test_crawl_then_etl_through_the_handlers(workspace: Workspace,
                                             lambda_context: Any) -> None:
    event = load_event("start_crawler")
    make_raw(workspace.local_path("s3://fraudpipe-local/input/"))

    crawl = start_crawler.handler(event, lambda_context)
    assert crawl == {"crawler_name": "fraudpipe-raw-crawler", "database": "fraudpipe",
                     "table": "input", "state": "RUNNING"}
    event["input"]["crawl"] = crawl
    crawl = _poll(lambda: get_crawler_status.handler(event, lambda_context), "state")
    assert (crawl["state"], crawl["last_crawl"], crawl["error"]) == ("READY", "SUCCEEDED", None)
    assert boto3.client("glue").get_table(DatabaseName="fraudpipe", Name="input")

    event["input"]["crawl"] = crawl
    etl = start_etl.handler(event, lambda_context)
    assert etl["status"] == "RUNNING" and etl["job_run_id"]
    event["input"]["etl"] = etl
    etl = _poll(lambda: get_etl_status.handler(event, lambda_context), "status")
    assert etl["status"] == "SUCCEEDED" and etl["error"] is None
    execution = event["execution_name"]
    assert etl["outputs"] == {
        "training": f"s3://fraudpipe-local/glue_transformed/{execution}/train/fraudTrain.csv",
        "test": f"s3://fraudpipe-local/glue_transformed/{execution}/test/fraudTest.csv",
        "batch": f"s3://fraudpipe-local/batch_predict/{execution}/fraudTest.csv",
        "quarantine":
            f"s3://fraudpipe-local/glue_transformed/{execution}/quarantine/quarantine.csv",
    }
    for uri in etl["outputs"].values():
        assert workspace.local_path(uri).is_file()
    assert set(etl["counts"]) == {"fraudTrain.csv", "fraudTest.csv"}
    for counts in etl["counts"].values():
        assert counts["rows_in"] == (counts["rows_out"] + counts["quarantined"]
                                     + counts["dropped_by_cutoff"])
    batch = read(workspace.local_path(etl["outputs"]["batch"]))
    assert len(batch) == etl["output_rows"]["batch"] == min(142, etl["output_rows"]["test"])


def test_start_etl_names_missing_columns(workspace: Workspace, lambda_context: Any) -> None:
    raw = workspace.local_path("s3://fraudpipe-local/input/")
    make_raw(raw)
    read(raw / "fraudTest.csv").drop(columns=["trans_num"]).to_csv(raw / "fraudTest.csv",
                                                                   index=False)
    with pytest.raises(DataValidationError,
                       match=r"fraudTest\.csv lacks required columns: trans_num"):
        start_etl.handler(load_event("start_etl"), lambda_context)


def test_start_etl_refuses_an_empty_file(workspace: Workspace, lambda_context: Any) -> None:
    raw = workspace.local_path("s3://fraudpipe-local/input/")
    make_raw(raw)
    (raw / "fraudTrain.csv").write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"fraudTrain\.csv is empty"):
        start_etl.handler(load_event("start_etl"), lambda_context)


def test_failed_etl_job_reports_failed_with_the_reason(workspace: Workspace,
                                                       lambda_context: Any) -> None:
    make_raw(workspace.local_path("s3://fraudpipe-local/input/"))
    event = load_event("start_etl")
    event["input"].update(train_cutoff="2019-01-15T00:00:00Z",
                          test_cutoff="2019-01-08T00:00:00Z")
    event["input"]["etl"] = start_etl.handler(event, lambda_context)
    etl = _poll(lambda: get_etl_status.handler(event, lambda_context), "status")
    assert etl["status"] == "FAILED"
    assert etl["error"].startswith("EtlError: train_cutoff 2019-01-15 00:00:00 is after")


def test_get_etl_status_needs_a_job_run_id(lambda_context: Any, workspace: Workspace) -> None:
    event = load_event("get_etl_status")
    del event["input"]["etl"]
    with pytest.raises(DataValidationError, match="job_run_id"):
        get_etl_status.handler(event, lambda_context)
