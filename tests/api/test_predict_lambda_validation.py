"""The predict Lambda refuses bad input of both event shapes before touching the engine."""

from __future__ import annotations

import base64
import json

import pytest

from fraudpipe.api.errors import BadRequestError
from fraudpipe.api.lambda_events import mapping_template_request, predict_event
from tests.conftest import load_event


class Unused:
    """A predictor that must never be reached (validation fails first)."""

    def predict(self, request):  # pragma: no cover - reaching it is the failure
        raise AssertionError("scored an invalid request")


def test_the_mapping_template_event_becomes_the_request_fields():
    data = mapping_template_request(load_event("predict"))
    assert data["event_timestamp"] == "2020-10-13T09:21:53.000Z"
    assert data["flow_definition"] == "ignore" and data["amt"] == "245.97"


def test_mapping_template_with_empty_parameters_raises_naming_them():
    event = load_event("predict")
    event["variables"]["amt"] = ""  # what the template makes of an absent query parameter
    event["variables"]["city"] = ""
    event["EVENT_TIMESTAMP"] = "not-a-time"
    with pytest.raises(BadRequestError) as raised:
        predict_event(event, Unused())
    assert {p["field"] for p in raised.value.problems} == {"amt", "city", "event_timestamp"}


def test_proxy_event_with_bad_query_is_a_400_response():
    event = load_event("predict_proxy")
    del event["queryStringParameters"]["zip"]
    response = predict_event(event, Unused())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"] == [{"field": "zip", "problem": "required"}]


def test_proxy_post_with_broken_json_is_a_400_response():
    event = load_event("predict_proxy")
    event.update(httpMethod="POST", queryStringParameters=None, isBase64Encoded=True,
                 body=base64.b64encode(b"{broken").decode())  # fmt: skip
    response = predict_event(event, Unused())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"][0]["field"] == "body"
