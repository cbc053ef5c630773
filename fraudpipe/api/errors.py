"""Errors of the realtime API, mapped to HTTP statuses by the routes and the Lambda handler.

    FraudpipeError
    └── ApiError
        ├── BadRequestError       400: the request names bad fields (``problems``)
        ├── UnauthorizedError     401: missing or wrong ``x-api-key``
        └── NotReadyError         503: no ACTIVE detector version to score with
"""

from __future__ import annotations

from fraudpipe.errors import FraudpipeError

__all__ = ["ApiError", "BadRequestError", "NotReadyError", "UnauthorizedError"]


class ApiError(FraudpipeError):
    """Base of the API's errors; ``status`` is the HTTP status."""

    status = 500


class BadRequestError(ApiError):
    """The request has missing or invalid fields, listed in ``problems``."""

    status = 400

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        fields = ", ".join(p["field"] for p in problems)
        super().__init__(f"invalid request: bad or missing fields: {fields}")


class UnauthorizedError(ApiError):
    """No or a wrong API key."""

    status = 401


class NotReadyError(ApiError):
    """Nothing to score with yet (no ACTIVE detector version)."""

    status = 503
