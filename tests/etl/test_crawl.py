"""The local crawl: schema inference, disagreeing headers, state RUNNING -> READY, the catalog."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fraudpipe.errors import CrawlerError
from fraudpipe.etl.crawl import crawl_folder, infer_type, table_name
from fraudpipe.etl.local import LocalCrawler
from fraudpipe.workspace import Workspace, read_json
from tests.etl.helpers import make_raw, read

RAW_URI = "s3://fraudpipe-local/input/"


@pytest.fixture
def glue() -> Any:
    with mock_aws():
        yield boto3.client("glue", region_name="us-east-1")


@pytest.fixture(autouse=True)
def _thread_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")


def _until_ready(crawler: LocalCrawler) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = crawler.status()
        if status["state"] != "RUNNING":
            return status
        time.sleep(0.02)
    raise AssertionError("crawl did not finish")


def test_infers_glue_types() -> None:
    assert infer_type(["1", "-22", ""]) == "bigint"
    assert infer_type(["1.5", "2", "1e3"]) == "double"
    assert infer_type(["true", "False"]) == "boolean"
    assert infer_type(["2019-01-01 00:00:18"]) == "string"
    assert infer_type(["", " "]) == "string"
    assert infer_type(["99999999999999999999"]) == "double"  # beyond bigint


def test_table_is_named_after_the_folder() -> None:
    assert table_name("input/") == "input"
    assert table_name("raw/card-data/") == "card_data"


def test_crawl_folder_reads_headers_and_samples(tmp_path: Path) -> None:
    make_raw(tmp_path)
    result = crawl_folder(tmp_path, sample_rows=50)
    types = {c["Name"]: c["Type"] for c in result["columns"]}
    assert types["col0"] == "bigint"
    assert types["cc_num"] == "bigint" and types["amt"] == "double"
    assert types["merchant"] == "string" and types["trans_date_trans_time"] == "string"
    assert types["is_fraud"] == "bigint"
    assert result["files"] == ["fraudTest.csv", "fraudTrain.csv"]
    assert result["sampled_rows"] == 100


def test_disagreeing_headers_name_files_and_columns(tmp_path: Path) -> None:
    make_raw(tmp_path)
    frame = read(tmp_path / "fraudTrain.csv").rename(columns={"amt": "amount"})
    frame.to_csv(tmp_path / "fraudTrain.csv", index=False)
    with pytest.raises(CrawlerError) as caught:
        crawl_folder(tmp_path)
    message = str(caught.value)
    assert "fraudTrain.csv lacks amt" in message
    assert "fraudTrain.csv has amount not in fraudTest.csv" in message


def test_crawl_goes_running_then_ready_and_writes_one_table(workspace: Workspace,
                                                            glue: Any) -> None:
    make_raw(workspace.local_path(RAW_URI))
    crawler = LocalCrawler(workspace, "raw-crawler", "fraudpipe", glue)
    started = crawler.start(RAW_URI, "input")
    assert started["state"] == "RUNNING" and started["last_crawl"] is None
    status = _until_ready(crawler)
    assert status == {"crawler_name": "raw-crawler", "database": "fraudpipe", "table": "input",
                      "state": "READY", "last_crawl": "SUCCEEDED", "error": None}
    table = glue.get_table(DatabaseName="fraudpipe", Name="input")["Table"]
    columns = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    assert columns[:3] == ["col0", "trans_date_trans_time", "cc_num"] and len(columns) == 23
    assert table["StorageDescriptor"]["Location"] == RAW_URI
    assert table["Parameters"]["classification"] == "csv"
    assert len(glue.get_tables(DatabaseName="fraudpipe")["TableList"]) == 1
    # the state and the table survive the process (moto's catalog does not)
    saved = read_json(workspace.catalog_dir / "crawlers" / "raw-crawler.json")
    assert saved["state"] == "READY" and saved["last_crawl"] == "SUCCEEDED"
    assert (workspace.catalog_dir / "tables" / "fraudpipe.input.json").is_file()


def test_second_crawl_updates_the_table(workspace: Workspace, glue: Any) -> None:
    raw = workspace.local_path(RAW_URI)
    make_raw(raw)
    crawler = LocalCrawler(workspace, "raw-crawler", "fraudpipe", glue)
    crawler.start(RAW_URI, "input")
    _until_ready(crawler)
    for name in ("fraudTrain.csv", "fraudTest.csv"):
        read(raw / name).assign(channel="web").to_csv(raw / name, index=False)
    crawler.start(RAW_URI, "input")
    assert _until_ready(crawler)["last_crawl"] == "SUCCEEDED"
    columns = glue.get_table(DatabaseName="fraudpipe", Name="input")["Table"][
        "StorageDescriptor"]["Columns"]
    assert columns[-1] == {"Name": "channel", "Type": "string"}


def test_failed_crawl_reports_ready_failed_with_the_message(workspace: Workspace,
                                                            glue: Any) -> None:
    raw = workspace.local_path(RAW_URI)
    make_raw(raw)
    read(raw / "fraudTest.csv").drop(columns=["job"]).to_csv(raw / "fraudTest.csv",
                                                             index=False)
    crawler = LocalCrawler(workspace, "raw-crawler", "fraudpipe", glue)
    crawler.start(RAW_URI, "input")
    status = _until_ready(crawler)
    assert (status["state"], status["last_crawl"]) == ("READY", "FAILED")
    assert status["error"] == ("headers disagree, cannot make one table: "
                               "fraudTrain.csv has job not in fraudTest.csv")
    assert glue.get_databases()["DatabaseList"] == []


def test_crawl_of_an_empty_prefix_fails(workspace: Workspace, glue: Any) -> None:
    crawler = LocalCrawler(workspace, "raw-crawler", "fraudpipe", glue)
    crawler.start(RAW_URI, "input")
    status = _until_ready(crawler)
    assert status["last_crawl"] == "FAILED" and "no CSV files" in status["error"]
