"""Scoring through the API with a real trained detector: response shape, equality with batch
scores, the 503 without an ACTIVE detector, realtime review, and the predict Lambda."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from fraudpipe.api.keys import ensure_api_key, update_config
from fraudpipe.engine import BuiltinEngine
from fraudpipe.review.queue import ReviewQueue
from fraudpipe.server import create_app
from functions import predict as predict_handler
from tests.api.seed import SEED_QUERY
from tests.api.trained import DETECTOR, VARIABLES, batch_score, test_events
from tests.conftest import load_event

pytestmark = pytest.mark.slow  # trains a model once per worker (a few seconds)


def _client(ws) -> TestClient:
    client = TestClient(create_app(ws))
    client.headers["x-api-key"] = ensure_api_key(ws)
    return client


def _query(event: dict[str, str], **extra) -> dict[str, str]:
    query = {name: event[name] for name in VARIABLES}
    query["event_timestamp"] = event["EVENT_TIMESTAMP"]
    return {**query, **extra}


def test_the_seed_request_gets_afds_response_shape_and_outcomes(trained_ws):
    with _client(trained_ws) as client:
        response = client.get("/predict", params=SEED_QUERY)
    assert response.status_code == 200, response.text
    body = response.json()
    [model] = body["modelScores"]
    assert model["modelVersion"] == {"modelId": "fraud_model",
                                     "modelType": "TRANSACTION_FRAUD_INSIGHTS",
                                     "modelVersionNumber": "1.0"}  # fmt: skip
    score = model["scores"]["fraud_model_insightscore"]
    assert 0 <= score <= 1000 and body["score"] == score
    expected = "high_risk" if score > 900 else "medium_risk" if score > 700 else "low_risk"
    assert body["outcomes"] == [expected]
    assert body["ruleResults"][0]["outcomes"] == [expected]
    assert body["eventId"] == SEED_QUERY["trans_num"] and body["detectorId"] == DETECTOR
    assert body["detectorVersionId"] == "1"
    assert body["review"] == {"requested": False, "inBand": 700 <= score <= 900,
                              "loopName": None}  # fmt: skip


def test_api_scores_equal_batch_scores_for_the_same_event_sequence(trained_ws, tmp_path):
    # GIVEN the first 60 test events, in time order (cards recur, so history matters)
    events = test_events(trained_ws, limit=60)
    batch_file = tmp_path / "batch.csv"
    frame = pd.DataFrame(events).drop(columns=["EVENT_LABEL"])
    frame.to_csv(batch_file, index=False)
    assert frame["cc_num"].duplicated().any()
    # WHEN they are scored by a batch job and, one by one, through GET and POST /predict
    batch = batch_score(trained_ws, batch_file)
    batch_scores = {row["EVENT_ID"]: json.loads(row["MODEL_SCORES"])["fraud_model"]
                    for row in batch.to_dict("records")}  # fmt: skip
    api_scores = {}
    with _client(trained_ws) as client:
        for index, event in enumerate(events):
            if index % 2:
                response = client.get("/predict", params=_query(event))
            else:
                response = client.post("/predict", json=_query(event))
            assert response.status_code == 200, response.text
            api_scores[event["trans_num"]] = response.json()["score"]
    # THEN every event gets the same score both ways
    assert api_scores == pytest.approx(batch_scores, abs=1e-6)
    assert len(set(api_scores.values())) > 5  # and the scores are not all alike


def test_no_active_detector_is_a_503_saying_how_to_get_one(workspace, trained_ws):
    with _client(trained_ws) as client:
        BuiltinEngine(trained_ws).update_detector_version_status(DETECTOR, "1", "INACTIVE")
        response = client.get("/predict", params=SEED_QUERY)
    assert response.status_code == 503
    assert "fraudpipe run" in response.json()["message"]


def test_an_empty_workspace_is_a_503(workspace):
    with _client(workspace) as client:
        response = client.post("/predict", json=SEED_QUERY)
    assert response.status_code == 503 and "no ACTIVE detector" in response.json()["message"]


def test_a_score_in_the_band_starts_a_loop_when_review_is_asked_for(trained_ws):
    # GIVEN a review band (from config.json) that no score can miss
    update_config(trained_ws, review={"min": 0, "max": 1000})
    arn = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/fraudpipe-review"
    with _client(trained_ws) as client:
        # WHEN asked without review, no loop; with review=true or a flow definition, a loop
        plain = client.get("/predict", params={**SEED_QUERY, "flow_definition": "ignore"})
        reviewed = client.get("/predict", params={**SEED_QUERY, "review": "true"})
        seed_style = client.get("/predict", params={**SEED_QUERY, "flow_definition": arn})
    assert plain.json()["review"] == {"requested": False, "inBand": True, "loopName": None}
    names = [reviewed.json()["review"]["loopName"], seed_style.json()["review"]["loopName"]]
    assert all(names) and names[0] != names[1]
    # THEN the loops wait in the local queue, without the card number
    items = ReviewQueue(trained_ws.review_db).items("PENDING")
    assert sorted(i.loop_name for i in items) == sorted(names)
    assert {i.execution_name for i in items} == {"realtime"}
    assert {i.event_id for i in items} == {SEED_QUERY["trans_num"]}
    assert items[0].task_object["merchant"] == SEED_QUERY["merchant"]
    assert "cc_num" not in items[0].task_object


def test_a_score_outside_the_band_starts_no_loop(trained_ws):
    update_config(trained_ws, review={"min": 1000, "max": 1000})
    with _client(trained_ws) as client:
        body = client.get("/predict", params={**SEED_QUERY, "review": "true"}).json()
    if body["score"] < 1000:
        assert body["review"] == {"requested": True, "inBand": False, "loopName": None}
        assert ReviewQueue(trained_ws.review_db).items() == []


def test_the_lambda_scores_the_seed_mapping_template_and_proxy_events(trained_ws, lambda_context):
    predict_handler._predictor.cache_clear()
    try:
        template = predict_handler.handler(load_event("predict"), lambda_context)
        proxy = predict_handler.handler(load_event("predict_proxy"), lambda_context)
    finally:
        predict_handler._predictor.cache_clear()
    assert template["eventId"] == SEED_QUERY["trans_num"]
    assert template["modelScores"][0]["scores"]["fraud_model_insightscore"] >= 0
    assert proxy["statusCode"] == 200
    body = json.loads(proxy["body"])
    assert body["eventId"] == SEED_QUERY["trans_num"] and body["outcomes"]


def test_a_seed_request_with_a_flow_definition_starts_an_a2i_loop(trained_ws):
    """The realtime path on AWS: StartHumanLoop with the request's flow definition (Stubber)."""
    import boto3
    from botocore.stub import ANY, Stubber
    from moto import mock_aws

    from fraudpipe.api.schema import PredictRequest
    from fraudpipe.api.service import Predictor
    from fraudpipe.review.a2i import A2IReviewer
    from fraudpipe.review.settings import ReviewSettings

    arn = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/fraud-detector-a2i"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artefacts")
        a2i = boto3.client("sagemaker-a2i-runtime", region_name="us-east-1")
        predictor = Predictor(
            BuiltinEngine(trained_ws),
            reviewer=lambda req: A2IReviewer(a2i, s3, "artefacts", req.flow_definition),
            review=ReviewSettings(min=0, max=1000),
        )
        with Stubber(a2i) as stub:
            stub.add_response(
                "start_human_loop",
                {"HumanLoopArn": "arn:aws:sagemaker:us-east-1:123456789012:human-loop/x"},
                {"HumanLoopName": ANY, "FlowDefinitionArn": arn, "HumanLoopInput": ANY},
            )
            request = PredictRequest.model_validate({**SEED_QUERY, "flow_definition": arn})
            body = predictor.predict(request)
            stub.assert_no_pending_responses()
        loop = body["review"]["loopName"]
        index = json.loads(s3.get_object(Bucket="artefacts", Key=f"review/loops/{loop}.json")
                           ["Body"].read())  # fmt: skip
    assert index == {"execution_name": "realtime", "event_id": SEED_QUERY["trans_num"],
                     "score": body["score"]}  # fmt: skip


def test_a_loop_that_cannot_start_leaves_the_score_standing(trained_ws):
    from fraudpipe.api.schema import PredictRequest
    from fraudpipe.api.service import Predictor
    from fraudpipe.review.a2i import A2IReviewer
    from fraudpipe.review.settings import ReviewSettings

    # an A2I reviewer without a flow definition refuses before calling AWS
    predictor = Predictor(BuiltinEngine(trained_ws), review=ReviewSettings(min=0, max=1000),
                          reviewer=lambda req: A2IReviewer(None, None, "bucket"))  # fmt: skip
    body = predictor.predict(PredictRequest.model_validate({**SEED_QUERY, "review": True}))
    assert body["score"] is not None and body["review"]["loopName"] is None
    assert "flow definition" in body["review"]["error"]


def test_a_value_the_engine_refuses_is_a_bad_request(trained_ws):
    from fraudpipe.api.errors import BadRequestError
    from fraudpipe.api.schema import PredictRequest
    from fraudpipe.api.service import Predictor

    valid = PredictRequest.model_validate(SEED_QUERY)
    unchecked = valid.model_copy(update={"event_timestamp": "not a time"})  # skips validation
    with pytest.raises(BadRequestError) as raised:
        Predictor(BuiltinEngine(trained_ws)).predict(unchecked)
    assert raised.value.problems[0]["field"] == "event"
