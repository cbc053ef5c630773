"""The generated ASL: in sync with the builder, valid for statelint, true to the contracts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from statemachines.pipeline import (
    ASL_PATH,
    FUNCTIONS,
    NON_STATE_FUNCTIONS,
    REDRIVE_FROM,
    build_definition,
    definition_json,
)

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = build_definition()
STATES = DEFINITION["States"]

#: docs/contracts.md: state -> (handler module, ResultPath)
CONTRACT = {
    "StartCrawler": ("start_crawler", "$.crawl"),
    "GetCrawlerStatus": ("get_crawler_status", "$.crawl"),
    "StartEtl": ("start_etl", "$.etl"),
    "GetEtlStatus": ("get_etl_status", "$.etl"),
    "CreateModelVersion": ("create_model_version", "$.training"),
    "GetTrainingStatus": ("get_training_status", "$.training"),
    "QualityGate": ("quality_gate", "$.gate"),
    "DeployDetectorVersion": ("deploy_detector_version", "$.detector"),
    "StartBatchPrediction": ("start_batch_prediction", "$.batch"),
    "GetBatchStatus": ("get_batch_status", "$.batch"),
    "StartHumanReview": ("start_human_review", "$.review"),
    "StartHumanReviewAndWait": ("start_human_review", "$.review"),
    "CollectVerdicts": ("collect_verdicts", "$.verdicts"),
}


def _substituted() -> str:
    return re.sub(
        r"\$\{([A-Za-z]+)FunctionArn\}",
        r"arn:aws:lambda:us-east-1:123456789012:function:\1",
        ASL_PATH.read_text(),
    )


def test_generated_file_matches_the_builder():
    assert ASL_PATH.read_text() == definition_json(), (
        "statemachines/pipeline.asl.json is stale: run `python -m statemachines.pipeline`"
    )


def test_statelint_accepts_the_definition_with_substitutions(tmp_path):
    path = tmp_path / "pipeline.asl.json"
    path.write_text(_substituted())
    statelint = Path(sys.executable).with_name("statelint")
    result = subprocess.run([str(statelint), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_statelint_reports_a_broken_definition(tmp_path):
    broken = json.loads(_substituted())
    broken["States"]["StartEtl"]["Next"] = "NoSuchState"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    statelint = Path(sys.executable).with_name("statelint")
    result = subprocess.run([str(statelint), str(path)], capture_output=True, text=True)
    assert result.returncode != 0 and "NoSuchState" in result.stdout + result.stderr


def test_definition_holds_no_arns_only_placeholders():
    text = ASL_PATH.read_text()
    assert "arn:aws:lambda" not in text
    used = set(re.findall(r"\$\{([A-Za-z]+)\}", text))
    assert used == set(FUNCTIONS.values())
    assert not used & set(NON_STATE_FUNCTIONS.values())


@pytest.mark.parametrize("state", sorted(CONTRACT))
def test_task_states_follow_the_contract(state):
    module, result_path = CONTRACT[state]
    body = STATES[state]
    assert body["Type"] == "Task"
    assert body["ResultPath"] == result_path
    placeholder = "${" + FUNCTIONS[module] + "}"
    payload = body["Parameters"]
    if state == "StartHumanReviewAndWait":
        assert body["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
        assert payload["FunctionName"] == placeholder
        payload = payload["Payload"]
        assert payload["task_token.$"] == "$$.Task.Token"
        assert body["TimeoutSecondsPath"] == "$.review.timeout_seconds"
    else:
        assert body["Resource"] == placeholder
    assert payload["execution_name.$"] == "$$.Execution.Name" and payload["input.$"] == "$"
    assert (ROOT / "functions" / f"{module}.py").exists()


@pytest.mark.parametrize("state", sorted(CONTRACT))
def test_every_task_retries_transient_errors_and_catches_all_into_a_named_fail(state):
    body = STATES[state]
    (retry,) = body["Retry"]  # one retrier: a second one for the same errors would never match
    assert "TransientError" in retry["ErrorEquals"]
    assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 2
    catch_all = [c for c in body["Catch"] if c["ErrorEquals"] == ["States.ALL"]]
    assert len(catch_all) == 1 and body["Catch"][-1] is catch_all[0]
    fail = STATES[catch_all[0]["Next"]]
    assert fail["Type"] == "Fail"
    assert fail["CausePath"].startswith(f"States.Format('{state} failed: ")


def test_every_handler_module_has_a_placeholder_name():
    for module, key in {**FUNCTIONS, **NON_STATE_FUNCTIONS}.items():
        camel = "".join(part.title() for part in module.split("_"))
        assert key == f"{camel}FunctionArn"
        assert (ROOT / "functions" / f"{module}.py").exists()


def test_simultaneous_training_is_caught_before_the_catch_all():
    catches = STATES["CreateModelVersion"]["Catch"]
    assert catches[0]["ErrorEquals"] == ["SimultaneousTrainingError"]
    choice = STATES[catches[0]["Next"]]
    assert choice["Choices"][0]["Variable"] == "$.on_simultaneous_training"
    wait = STATES[choice["Choices"][0]["Next"]]
    assert wait["SecondsPath"] == "$.poll_seconds.simultaneous_training"
    assert wait["Next"] == "CreateModelVersion"
    assert STATES[STATES[choice["Default"]]["Next"]]["Type"] == "Succeed"


def test_redrive_restart_points_name_real_states():
    for fail, restart in REDRIVE_FROM.items():
        assert STATES[fail]["Type"] == "Fail" and STATES[restart]["Type"] == "Task"


def test_fraudpipe_asl_prints_the_definition():
    from typer.testing import CliRunner

    from fraudpipe.cli import app

    result = CliRunner().invoke(app, ["asl"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == DEFINITION
