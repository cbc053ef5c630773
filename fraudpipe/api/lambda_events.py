"""The predict Lambda's two event shapes, scored with the same code as ``fraudpipe serve``.

- The seed's mapping template: ``{"variables": {14 strings}, "EVENT_TIMESTAMP": ...,
  "flow_definition": "ignore" | ARN}``. API Gateway fills absent query parameters with ``""``,
  which validation reports like missing ones. Success returns the prediction; bad input raises
  :class:`BadRequestError` (its class name is the ``errorType`` an integration response maps to
  400), no detector :class:`NotReadyError` (503).
- A proxy event (``httpMethod``/``requestContext``): GET query or POST JSON body; the answer is
  ``{"statusCode", "headers", "body"}`` with the same statuses and bodies as the local server.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fraudpipe.api.errors import ApiError, BadRequestError
from fraudpipe.api.schema import PredictRequest, validate_request
from fraudpipe.api.service import Predictor

__all__ = ["is_proxy_event", "mapping_template_request", "predict_event"]


def is_proxy_event(event: dict[str, Any]) -> bool:
    return "httpMethod" in event or "requestContext" in event or "routeKey" in event


def mapping_template_request(event: dict[str, Any]) -> dict[str, Any]:
    """The seed's template event as the request fields."""
    variables = event.get("variables")
    data = dict(variables) if isinstance(variables, dict) else {}
    data["event_timestamp"] = event.get("EVENT_TIMESTAMP", "")
    if event.get("flow_definition"):
        data["flow_definition"] = event["flow_definition"]
    if "review" in event:
        data["review"] = event["review"]
    return data


def _proxy_request(event: dict[str, Any]) -> Any:
    method = (
        event.get("httpMethod")
        or event.get("requestContext", {}).get("http", {}).get("method")
        or "GET"
    ).upper()
    if method == "POST":
        raw = event.get("body") or ""
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8", "replace")
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return dict(event.get("queryStringParameters") or {})


def _validated(data: Any) -> PredictRequest:
    found = validate_request(data)
    if isinstance(found, list):
        raise BadRequestError(found)
    return found


def _http(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def predict_event(event: dict[str, Any], predictor: Predictor) -> dict[str, Any]:
    """Score a Lambda event of either shape."""
    if not isinstance(event, dict):
        raise BadRequestError([{"field": "event", "problem": "must be a JSON object"}])
    if not is_proxy_event(event):
        return predictor.predict(_validated(mapping_template_request(event)))
    try:
        result = predictor.predict(_validated(_proxy_request(event)))
    except ApiError as exc:
        body: dict[str, Any] = {"message": str(exc)}
        if isinstance(exc, BadRequestError):
            body["errors"] = exc.problems
        return _http(exc.status, body)
    return _http(200, result)
