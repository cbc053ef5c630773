"""Crawl and ETL as states of the local state machine (moto's interpreter, real handlers).

The definition is the pipeline's own ASL cut after the ETL: the crawl and ETL states exactly as
generated, with "ETL succeeded" leading to a Succeed state instead of training.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fraudpipe.local.runtime import LocalRuntime, pipeline_functions
from fraudpipe.workspace import Workspace
from statemachines.inputs import validate_input
from statemachines.pipeline import ASL_PATH
from tests.etl.helpers import make_raw, read

pytestmark = pytest.mark.slow  # each test runs executions on the local Step Functions runtime

OURS = ("StartCrawler", "WaitForCrawler", "GetCrawlerStatus", "CrawlerFinished?",
        "CrawlerFailed", "StartEtl", "WaitForEtl", "GetEtlStatus", "EtlFinished?", "EtlFailed",
        "StartCrawlerFailed", "GetCrawlerStatusFailed", "StartEtlFailed", "GetEtlStatusFailed")
POLL = {"crawler": 0, "etl": 0, "training": 0, "batch": 0, "simultaneous_training": 0}


def _definition() -> dict[str, Any]:
    pipeline = json.loads(ASL_PATH.read_text(encoding="utf-8"))
    states = {name: pipeline["States"][name] for name in OURS}
    for choice in states["EtlFinished?"]["Choices"]:
        if choice["Next"] not in states:
            choice["Next"] = "EtlDone"
    states["EtlDone"] = {"Type": "Succeed"}
    return {"Comment": "crawl + ETL of the pipeline", "StartAt": pipeline["StartAt"],
            "States": states}


@pytest.fixture
def runtime(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "local")
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.01")
    with LocalRuntime(workspace, definition=_definition(), functions=pipeline_functions(),
                      validator=validate_input) as local:
        yield local


def _run(runtime: LocalRuntime, **extra: Any) -> dict[str, Any]:
    name = runtime.start_execution({"poll_seconds": POLL, **extra})
    return runtime.wait(name, timeout=120)


def _states(runtime: LocalRuntime, name: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in runtime.events(name)
            if "stateEnteredEventDetails" in e]


def test_crawl_and_etl_states_run_on_generated_data(runtime: LocalRuntime,
                                                    workspace: Workspace) -> None:
    make_raw(workspace.local_path("s3://fraudpipe-local/input/"))
    result = _run(runtime)
    assert result["status"] == "SUCCEEDED", result
    output = result["output"] if isinstance(result["output"], dict) else json.loads(
        result["output"])
    assert output["crawl"]["last_crawl"] == "SUCCEEDED"
    etl = output["etl"]
    assert etl["status"] == "SUCCEEDED"
    training = read(workspace.local_path(etl["outputs"]["training"]))
    assert len(training) == etl["output_rows"]["training"] > 0
    for counts in etl["counts"].values():
        assert counts["rows_in"] == (counts["rows_out"] + counts["quarantined"]
                                     + counts["dropped_by_cutoff"])
    entered = _states(runtime, result["name"])
    assert entered[:4] == ["StartCrawler", "WaitForCrawler", "GetCrawlerStatus",
                           "CrawlerFinished?"]
    assert {"StartEtl", "GetEtlStatus", "EtlFinished?", "EtlDone"} <= set(entered)


def test_missing_columns_fail_start_etl_with_the_columns_in_the_cause(
        runtime: LocalRuntime, workspace: Workspace) -> None:
    raw = workspace.local_path("s3://fraudpipe-local/input/")
    make_raw(raw)
    for name in ("fraudTrain.csv", "fraudTest.csv"):
        read(raw / name).drop(columns=["amt", "category"]).to_csv(raw / name, index=False)
    result = _run(runtime)
    assert result["status"] == "FAILED"
    assert result["error"] == "DataValidationError"
    assert "StartEtl failed" in result["cause"]
    assert "lacks required columns: category, amt" in result["cause"]


def _crawl_results(runtime: LocalRuntime, name: str) -> list[dict[str, Any]]:
    """What GetCrawlerStatus returned, from the execution history."""
    found = []
    for event in runtime.events(name):
        details = event.get("taskSucceededEventDetails") or event.get(
            "lambdaFunctionSucceededEventDetails")
        if details and "last_crawl" in (details.get("output") or ""):
            found.append(json.loads(details["output"]))
    return found


def test_disagreeing_headers_fail_the_crawl(runtime: LocalRuntime,
                                            workspace: Workspace) -> None:
    raw = workspace.local_path("s3://fraudpipe-local/input/")
    make_raw(raw)
    read(raw / "fraudTest.csv").drop(columns=["zip"]).to_csv(raw / "fraudTest.csv", index=False)
    result = _run(runtime)
    assert result["status"] == "FAILED"
    entered = _states(runtime, result["name"])
    assert "CrawlerFailed" in entered and "StartEtl" not in entered
    last = _crawl_results(runtime, result["name"])[-1]
    assert (last["state"], last["last_crawl"]) == ("READY", "FAILED")
    assert "fraudTrain.csv has zip not in fraudTest.csv" in last["error"]


def test_crawl_failure_cause_names_files_and_columns(runtime: LocalRuntime,
                                                     workspace: Workspace) -> None:
    raw = workspace.local_path("s3://fraudpipe-local/input/")
    make_raw(raw)
    read(raw / "fraudTest.csv").drop(columns=["zip"]).to_csv(raw / "fraudTest.csv", index=False)
    result = _run(runtime)
    assert result["error"] == "CrawlerFailed"
    assert "fraudTrain.csv has zip not in fraudTest.csv" in (result["cause"] or "")


def test_failed_etl_job_fails_the_execution_with_its_reason(runtime: LocalRuntime,
                                                            workspace: Workspace) -> None:
    raw = workspace.local_path("s3://fraudpipe-local/input/")
    make_raw(raw)
    read(raw / "fraudTest.csv").assign(trans_date_trans_time="soon").to_csv(
        raw / "fraudTest.csv", index=False)
    result = _run(runtime)
    assert result["status"] == "FAILED"
    assert result["error"] == "EtlFailed"
    assert result["cause"] == ("ETL job failed: DataValidationError: no cutoff given and "
                               "fraudTest.csv has no valid row to take the default from")
