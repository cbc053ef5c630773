"""The real pipeline.asl.json on the local runtime, with contract-shaped stand-in handlers.

Covers the ASL's branches: Retry of a transient error, Catch to the right Fail state and Cause,
the simultaneous-training branch both ways, the review choice and the poll-loop failures.
"""

from __future__ import annotations

from typing import Any

from fraudpipe.local.summary import state_runs
from tests.conftest import pipeline_path, visited_once
from tests.local.fake_pipeline import HANDLERS
from tests.local.handlers import calls


def _visited(runtime: Any, name: str) -> list[str]:
    return [r["name"] for r in state_runs(runtime.events(name))]


def test_happy_path_visits_every_stage_in_order(make_runtime, fake_conf):
    fake_conf()
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({}, timeout=60)
    assert record["status"] == "SUCCEEDED"
    visited = _visited(runtime, record["name"])
    order = pipeline_path(review=True)
    assert visited_once(visited, order) == order
    assert visited.count("GetEtlStatus") == 2  # RUNNING once, then SUCCEEDED: the loop polled
    output = record["output"]
    assert output["training"]["model_version"] == "1.0"
    assert output["batch"]["review_candidates"] == 2
    assert output["review"]["loops_started"] == 2


def test_transient_error_is_retried_until_success(make_runtime, fake_conf):
    # GIVEN a crawler start that throttles twice
    fake_conf(crawler_transient_failures=2)
    runtime = make_runtime(functions=HANDLERS)
    # WHEN the pipeline runs
    record = runtime.run({}, timeout=60)
    # THEN the third attempt succeeded and the execution went on
    assert record["status"] == "SUCCEEDED"
    assert calls("start_crawler", record["name"]) == 3
    failed = [e for e in runtime.events(record["name"]) if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == [
        "TransientError",
        "TransientError",
    ]


def test_quality_gate_error_is_caught_into_its_fail_state_with_cause(make_runtime, fake_conf):
    fake_conf(auc=0.61)
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({"min_auc": 0.9}, timeout=60)
    assert record["status"] == "FAILED"
    assert record["error"] == "QualityGateError"
    assert record["cause"].startswith("QualityGate failed: ")
    assert "AUC 0.61 is below min_auc 0.9" in record["cause"]
    visited = _visited(runtime, record["name"])
    assert visited[-2:] == ["QualityGate", "QualityGateFailed"]
    assert "DeployDetectorVersion" not in visited
    assert calls("quality_gate", record["name"]) == 1  # not a transient error: no retry


def test_failed_crawl_ends_in_crawler_failed_naming_the_reason(make_runtime, fake_conf):
    fake_conf(crawl_result="FAILED")
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({}, timeout=60)
    assert record["status"] == "FAILED"
    assert record["error"] == "CrawlerFailed"
    assert record["cause"] == "crawl failed: headers differ"


def test_failed_training_ends_in_training_failed(make_runtime, fake_conf):
    fake_conf(training_status="ERROR", training_error="not enough fraud labels")
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({}, timeout=60)
    assert (record["error"], record["cause"]) == (
        "TrainingFailed",
        "training failed: not enough fraud labels",
    )


def test_simultaneous_training_waits_and_retries_when_asked(make_runtime, fake_conf):
    fake_conf(simultaneous=2)
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({"on_simultaneous_training": "wait"}, timeout=60)
    assert record["status"] == "SUCCEEDED"
    visited = _visited(runtime, record["name"])
    assert visited.count("WaitForRunningTraining") == 2
    assert visited.count("CreateModelVersion") == 3
    assert calls("create_model_version", record["name"]) == 3


def test_simultaneous_training_ends_successfully_when_told_to_skip(make_runtime, fake_conf):
    fake_conf(simultaneous=1)
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({"on_simultaneous_training": "skip"}, timeout=60)
    assert record["status"] == "SUCCEEDED"
    assert record["output"]["skipped"]["reason"] == "training already running"
    assert "Simultaneous training" in record["output"]["skipped"]["cause"]
    visited = _visited(runtime, record["name"])
    assert visited[-2:] == ["TrainingAlreadyRunning", "SkippedTrainingAlreadyRunning"]
    assert "GetTrainingStatus" not in visited


def test_no_review_when_no_candidates(make_runtime, fake_conf):
    fake_conf(review_candidates=0)
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({}, timeout=60)
    visited = _visited(runtime, record["name"])
    assert record["status"] == "SUCCEEDED"
    assert "StartHumanReview" not in visited and visited[-1] == "PipelineSucceeded"


def test_review_wait_times_out_into_collect_verdicts(make_runtime, fake_conf):
    # GIVEN reviewers asked to wait at most one second, and nobody answering
    fake_conf()
    runtime = make_runtime(functions=HANDLERS)
    record = runtime.run({"review": {"wait": True, "timeout_seconds": 1}}, timeout=60)
    # THEN the callback state timed out and the verdicts were collected anyway
    assert record["status"] == "SUCCEEDED"
    visited = _visited(runtime, record["name"])
    assert "StartHumanReviewAndWait" in visited and visited[-2] == "CollectVerdicts"
    assert record["output"]["review_timeout"]["Error"] == "States.Timeout"
    assert calls("start_human_review_wait", record["name"]) == 1
