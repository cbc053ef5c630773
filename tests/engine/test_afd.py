"""The AFD backend against botocore's Stubber: same interface, AFD's calls and errors."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import ANY, Stubber

from fraudpipe.engine import get_engine
from fraudpipe.engine.afd import AfdEngine
from fraudpipe.engine.rules import default_rules
from fraudpipe.engine.steps import create_model_version, get_training_status
from fraudpipe.errors import (
    EngineError,
    NoActiveDetectorError,
    RuleSyntaxError,
    SimultaneousTrainingError,
    TransientError,
)
from fraudpipe.handler import parse_event
from tests.conftest import load_event

ROLE = "arn:aws:iam::123456789012:role/FraudDetectorData"
TRAIN = "s3://bucket/glue_transformed/e/train/fraudTrain.csv"


@pytest.fixture
def stubbed() -> Iterator[tuple[AfdEngine, Stubber]]:
    client = boto3.client("frauddetector", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield AfdEngine(client, role_arn=ROLE), stubber
        stubber.assert_no_pending_responses()


def test_get_engine_selects_afd_with_the_injected_client() -> None:
    client = boto3.client("frauddetector", region_name="us-east-1")
    engine = get_engine("afd", client=client)
    assert isinstance(engine, AfdEngine) and engine.client is client
    with pytest.raises(ValueError, match="engine must be one of"):
        get_engine("sagemaker")


def test_training_calls_and_simultaneous_training(stubbed: tuple[AfdEngine, Stubber]) -> None:
    engine, stub = stubbed
    stub.add_client_error("create_model", "ValidationException",
                          "fraud_model already exists")
    stub.add_response(
        "create_model_version",
        {"modelId": "fraud_model", "modelType": "TRANSACTION_FRAUD_INSIGHTS",
         "modelVersionNumber": "1.0", "status": "TRAINING_IN_PROGRESS"},
        {"modelId": "fraud_model", "modelType": "TRANSACTION_FRAUD_INSIGHTS",
         "trainingDataSource": "EXTERNAL_EVENTS", "trainingDataSchema": ANY,
         "externalEventsDetail": {"dataLocation": TRAIN, "dataAccessRoleArn": ROLE}},
    )
    stub.add_client_error(
        "update_model_version", "ValidationException",
        "Simultaneous training for the same major version not allowed",
        expected_params={"modelId": "fraud_model", "modelType": "TRANSACTION_FRAUD_INSIGHTS",
                         "majorVersionNumber": "1", "externalEventsDetail": ANY},
    )
    stub.add_client_error("get_model_version", "ThrottlingException", "slow down")
    engine.put_model("fraud_model")
    started = engine.create_model_version("fraud_model", TRAIN)
    assert started["modelVersionNumber"] == "1.0"
    with pytest.raises(SimultaneousTrainingError, match="Simultaneous training"):
        engine.update_model_version("fraud_model", "1.0", TRAIN)
    with pytest.raises(TransientError, match="ThrottlingException"):
        engine.get_model_version("fraud_model", "1.0")


def test_model_version_metrics_come_from_describe(stubbed: tuple[AfdEngine, Stubber]) -> None:
    engine, stub = stubbed
    stub.add_response("get_model_version", {
        "modelId": "fraud_model", "modelType": "TRANSACTION_FRAUD_INSIGHTS",
        "modelVersionNumber": "1.0", "status": "TRAINING_COMPLETE"})
    stub.add_response("describe_model_versions", {"modelVersionDetails": [{
        "modelId": "fraud_model", "modelVersionNumber": "1.0",
        "trainingResultV2": {"trainingMetricsV2": {"tfi": {"modelPerformance": {"auc": 0.97}}}},
    }]})
    record = engine.get_model_version("fraud_model", "1.0")
    assert record["status"] == "TRAINING_COMPLETE"
    assert record["trainingResult"]["metrics"] == {"auc": 0.97}


def test_detector_version_creates_rules_and_outcomes(stubbed: tuple[AfdEngine, Stubber]) -> None:
    engine, stub = stubbed
    rules = default_rules("fraud_model")
    stub.add_response("put_detector", {}, {"detectorId": "fraud_detector",
                                           "eventTypeName": "credit_card_transaction"})
    for outcome in ("high_risk", "low_risk", "medium_risk"):
        stub.add_response("put_outcome", {}, {"name": outcome})
    # investigate: new rule; review: same expression exists; approve: changed -> new version
    stub.add_client_error("get_rules", "ResourceNotFoundException", "no rule")
    stub.add_response("create_rule", {"rule": {"detectorId": "fraud_detector",
                                               "ruleId": "investigate", "ruleVersion": "1"}})
    stub.add_response("get_rules", {"ruleDetails": [
        {"ruleId": "review", "ruleVersion": "3", "expression": rules[1]["expression"],
         "outcomes": ["medium_risk"]}]})
    stub.add_response("get_rules", {"ruleDetails": [
        {"ruleId": "approve", "ruleVersion": "1", "expression": "$x < 700",
         "outcomes": ["low_risk"]}]})
    stub.add_response("update_rule_version", {"rule": {
        "detectorId": "fraud_detector", "ruleId": "approve", "ruleVersion": "2"}})
    stub.add_response(
        "create_detector_version",
        {"detectorId": "fraud_detector", "detectorVersionId": "2", "status": "DRAFT"},
        {"detectorId": "fraud_detector", "ruleExecutionMode": "FIRST_MATCHED",
         "modelVersions": [{"modelId": "fraud_model", "modelType": "TRANSACTION_FRAUD_INSIGHTS",
                            "modelVersionNumber": "1.0"}],
         "rules": [{"detectorId": "fraud_detector", "ruleId": "investigate", "ruleVersion": "1"},
                   {"detectorId": "fraud_detector", "ruleId": "review", "ruleVersion": "3"},
                   {"detectorId": "fraud_detector", "ruleId": "approve", "ruleVersion": "2"}]},
    )
    stub.add_response("update_detector_version_status", {}, {
        "detectorId": "fraud_detector", "detectorVersionId": "2", "status": "ACTIVE"})
    created = engine.create_detector_version(
        "fraud_detector", [{"modelId": "fraud_model", "modelVersionNumber": "1.0"}], rules)
    assert created["detectorVersionId"] == "2"
    engine.update_detector_version_status("fraud_detector", "2", "ACTIVE")


def test_bad_rule_is_refused_before_calling_afd(stubbed: tuple[AfdEngine, Stubber]) -> None:
    engine, _ = stubbed
    with pytest.raises(RuleSyntaxError, match="position 27"):
        engine.create_detector_version(
            "d", [{"modelId": "fraud_model", "modelVersionNumber": "1.0"}],
            [{"ruleId": "x", "expression": "$fraud_model_insightscore >", "outcomes": []}])


def test_scoring_calls(stubbed: tuple[AfdEngine, Stubber]) -> None:
    engine, stub = stubbed
    stub.add_response("describe_detector", {"detectorId": "fraud_detector",
                                            "detectorVersionSummaries": [
        {"detectorVersionId": "1", "status": "INACTIVE"},
        {"detectorVersionId": "2", "status": "ACTIVE"}]})
    stub.add_response("get_detector_version", {"detectorId": "fraud_detector",
                                               "detectorVersionId": "2", "status": "ACTIVE"})
    stub.add_response("create_batch_prediction_job", {}, {
        "jobId": "j", "inputPath": "s3://b/in.csv", "outputPath": "s3://b/out",
        "eventTypeName": "credit_card_transaction", "detectorName": "fraud_detector",
        "detectorVersion": "2", "iamRoleArn": ROLE})
    stub.add_response("get_batch_prediction_jobs", {"batchPredictions": [
        {"jobId": "j", "status": "COMPLETE", "processedRecordsCount": 142}]}, {"jobId": "j"})
    prediction = {
        "modelScores": [{"modelVersion": {"modelId": "fraud_model",
                                          "modelType": "TRANSACTION_FRAUD_INSIGHTS",
                                          "modelVersionNumber": "1.0"},
                         "scores": {"fraud_model_insightscore": 912.0}}],
        "ruleResults": [{"ruleId": "investigate", "outcomes": ["high_risk"]}]}
    stub.add_response("get_event_prediction", prediction, {
        "detectorId": "fraud_detector", "eventId": "e1",
        "eventTypeName": "credit_card_transaction",
        "entities": [{"entityType": "card", "entityId": "4111"}],
        "eventTimestamp": "2020-06-01T10:00:00Z", "eventVariables": {"amt": "12.5"}})
    stub.add_client_error("describe_detector", "ResourceNotFoundException", "no detector")
    engine.create_batch_prediction_job("j", "s3://b/in.csv", "s3://b/out", "fraud_detector")
    jobs = engine.get_batch_prediction_jobs("j")
    assert jobs["batchPredictions"][0]["status"] == "COMPLETE"
    result = engine.get_event_prediction("fraud_detector", "e1", "2020-06-01T10:00:00Z", "4111",
                                         {"amt": 12.5, "city": None})
    assert result == prediction
    with pytest.raises(NoActiveDetectorError):
        engine.get_active_detector_version("missing")


def test_create_model_version_state_on_afd_maps_simultaneous_training(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRAUDPIPE_AFD_ROLE_ARN", ROLE)
    client = boto3.client("frauddetector", region_name="us-east-1")
    event = parse_event(load_event("create_model_version"))
    event.input.update(engine="afd", mode="update", model_version="1")
    with Stubber(client) as stub:
        stub.add_response("create_model", {})
        stub.add_client_error("update_model_version", "ValidationException",
                              "Simultaneous training for the same major version not allowed")
        with pytest.raises(SimultaneousTrainingError):
            create_model_version(event, client=client)
        stub.add_response("get_model_version", {
            "modelId": "fraud_model", "modelVersionNumber": "1.0.1",
            "status": "TRAINING_IN_PROGRESS"})
        event.input["training"] = {"model_id": "fraud_model", "model_version": "1.0.1"}
        status = get_training_status(event, client=client)
    assert status["status"] == "TRAINING_IN_PROGRESS" and status["metrics"] == {}


def test_missing_role_is_a_clear_error() -> None:
    client = boto3.client("frauddetector", region_name="us-east-1")
    engine = AfdEngine(client, role_arn="")
    engine.role_arn = ""
    with pytest.raises(EngineError, match="FRAUDPIPE_AFD_ROLE_ARN"):
        engine.create_model_version("m", TRAIN)
