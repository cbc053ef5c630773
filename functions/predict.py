"""Realtime prediction on AWS (API Gateway → Lambda), sharing its scoring code with ``serve``.

Accepts the seed's mapping-template event and API Gateway proxy events; see
``fraudpipe.api.lambda_events``. The predictor (engine, detector, reviewer) is built once per
container.
"""

from __future__ import annotations

import gc
from functools import cache
from typing import Any

from fraudpipe.api.factory import build_predictor
from fraudpipe.api.lambda_events import predict_event
from fraudpipe.api.service import Predictor
from fraudpipe.api.threads import single_threaded_scoring
from fraudpipe.logs import get_logger

logger = get_logger("Predict")


@cache
def _predictor() -> Predictor:
    single_threaded_scoring()
    predictor = build_predictor()
    gc.freeze()  # the libraries loaded live as long as the container: keep them out of GC passes
    return predictor


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = predict_event(event, _predictor())
    logger.info("scored", extra={"status": result.get("statusCode", 200)})
    return result
