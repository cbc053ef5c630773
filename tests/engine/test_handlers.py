"""The engine's task handlers, chained as the state machine chains them."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from fraudpipe.errors import DataValidationError, QualityGateError
from fraudpipe.workspace import Workspace
from functions import (
    create_model_version,
    deploy_detector_version,
    get_batch_status,
    get_training_status,
    quality_gate,
    start_batch_prediction,
)
from tests.conftest import load_event


def place_etl_outputs(workspace: Workspace, event: dict, files: tuple[Path, Path, Path]) -> None:
    outputs = event["input"]["etl"]["outputs"]
    for key, source in zip(("training", "test", "batch"), files, strict=True):
        target = workspace.local_path(outputs[key])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)


def poll(handler: Any, event: dict, key: str, context: Any) -> dict:
    deadline = time.monotonic() + 120
    while True:
        result = handler.handler(event, context)
        if result["status"] not in ("TRAINING_IN_PROGRESS", "IN_PROGRESS"):
            return result
        assert time.monotonic() < deadline, result
        event["input"][key] = result
        time.sleep(0.05)


@pytest.mark.slow
def test_train_gate_deploy_and_batch_score(
    workspace: Workspace, tiny_training_file: Path, data_files: tuple[Path, Path, Path],
    lambda_context: Any,
) -> None:
    # GIVEN the ETL outputs of an execution
    event = load_event("create_model_version")
    place_etl_outputs(workspace, event, (tiny_training_file, data_files[1], data_files[2]))
    # WHEN the engine's states run in order
    event["input"]["training"] = create_model_version.handler(event, lambda_context)
    assert event["input"]["training"] == {
        "model_id": "fraud_model", "model_version": "1.0", "status": "TRAINING_IN_PROGRESS"}
    training = poll(get_training_status, event, "training", lambda_context)
    assert training["status"] == "TRAINING_COMPLETE", training
    assert training["metrics"]["auc"] > 0.9 and Path(training["report"]).exists()
    event["input"]["training"] = training
    event["input"]["gate"] = quality_gate.handler(event, lambda_context)
    assert event["input"]["gate"]["passed"] is True
    event["input"]["rules"] = {"high_risk_above": 950, "medium_risk_above": 650}
    detector = deploy_detector_version.handler(event, lambda_context)
    assert (detector["detector_version"], detector["status"]) == ("1", "ACTIVE")
    assert detector["rules"][0]["expression"] == "$fraud_model_insightscore > 950"
    event["input"]["detector"] = detector
    event["input"]["batch"] = start_batch_prediction.handler(event, lambda_context)
    batch = poll(get_batch_status, event, "batch", lambda_context)
    # THEN the batch output is complete with counts the Choice states can read
    assert batch["status"] == "COMPLETE", batch
    assert batch["output"].endswith(f"batch_output/{event['execution_name']}/"
                                    "DetectorBatchResults.csv")
    assert workspace.local_path(batch["output"]).exists()
    assert batch["rows"] == sum(batch["outcome_counts"].values())
    assert set(batch["outcome_counts"]) <= {"high_risk", "medium_risk", "low_risk"}
    assert isinstance(batch["review_candidates"], int) and batch["review_candidates"] > 0
    # AND an update trains the next minor version of major 1
    event["input"].update(mode="update", model_version="1")
    assert create_model_version.handler(event, lambda_context)["model_version"] == "1.0.1"


def test_quality_gate_refuses_a_weak_model(lambda_context: Any) -> None:
    event = load_event("quality_gate")
    event["input"]["training"]["metrics"]["auc"] = 0.83
    with pytest.raises(QualityGateError,
                       match=r"AUC 0\.8300 is below min_auc 0\.9 for fraud_model 1\.0"):
        quality_gate.handler(event, lambda_context)
    passed = quality_gate.handler(load_event("quality_gate"), lambda_context)
    assert passed == {"passed": True, "auc": 0.97, "min_auc": 0.9,
                      "reason": "AUC 0.9700 >= min_auc 0.9"}


def test_create_model_version_without_etl_output_names_the_field(
    workspace: Workspace, lambda_context: Any
) -> None:
    event = load_event("create_model_version")
    del event["input"]["etl"]
    with pytest.raises(DataValidationError, match=r"etl\.outputs\.training"):
        create_model_version.handler(event, lambda_context)
