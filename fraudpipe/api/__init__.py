"""Realtime prediction API: the seed's API Gateway GET, served locally and by the AWS Lambda."""

from __future__ import annotations

from fraudpipe.api.errors import ApiError, BadRequestError, NotReadyError, UnauthorizedError
from fraudpipe.api.schema import VARIABLES, PredictRequest, validate_request
from fraudpipe.api.service import Predictor

__all__ = [
    "VARIABLES",
    "ApiError",
    "BadRequestError",
    "NotReadyError",
    "PredictRequest",
    "Predictor",
    "UnauthorizedError",
    "validate_request",
]
