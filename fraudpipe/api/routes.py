"""HTTP routes of the realtime API: ``GET /predict`` (the seed's query) and ``POST /predict``.

Bad input is a 400 listing every bad field (FastAPI's 422 is reshaped for this area's routes),
a missing or wrong ``x-api-key`` a 401, no ACTIVE detector a 503 saying how to get one.

Why the predict routes read the query / body themselves: FastAPI's per-request parameter
solving cost about a millisecond, a third of a prediction; validating with the pydantic model
directly is the same rules (:mod:`fraudpipe.api.schema`) in a few microseconds, and the OpenAPI
document is generated from that model so it stays exact. ``GET``/``POST /predict`` are in fact
answered by :class:`~fraudpipe.api.fastpath.PredictFastPath` before the router, with the same
functions (:func:`~fraudpipe.api.fastpath.answer`); the routes document them and stay correct
should the middleware be left out.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fraudpipe.api.errors import ApiError
from fraudpipe.api.fastpath import (
    COOKIE,
    PredictFastPath,
    answer,
    api_key_problem,
    error_body,
    parse_body,
)
from fraudpipe.api.keys import HEADER, KeyRing
from fraudpipe.api.schema import PredictRequest, problems_of
from fraudpipe.workspace import Workspace

__all__ = ["COOKIE", "include", "require_api_key"]

#: Paths whose validation errors are answered as 400 with the list of bad fields.
OWN_PREFIXES = ("/predict", "/review")

_ERROR_BODY = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
        },
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "AFD's GetEventPrediction shape plus outcomes, score and review."},
    400: {
        "description": "Missing or invalid fields, all listed.",
        "content": {"application/json": {"schema": _ERROR_BODY}},
    },
    401: {"description": "Missing or wrong x-api-key header."},
    503: {"description": "No ACTIVE detector version yet; the message says how to get one."},
}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=exc.status)


def require_api_key(request: Request) -> None:
    """Dependency: the ``x-api-key`` header (or the review pages' cookie) must hold a key."""
    presented = request.headers.get(HEADER) or request.cookies.get(COOKIE)
    denied = api_key_problem(request.app.state, presented)
    if denied is not None:
        raise denied


def query_parameters() -> list[dict[str, Any]]:
    """The OpenAPI query parameters of ``GET /predict``, from the request model."""
    schema = PredictRequest.model_json_schema()
    required = set(schema.get("required", []))

    def plain(prop: dict[str, Any]) -> dict[str, Any]:
        """A query value is never JSON null: keep the non-null branch of ``X | None``."""
        options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
        base = {k: v for k, v in prop.items() if k not in ("description", "anyOf")}
        return {**options[0], **base} if len(options) == 1 else base

    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.get("description", ""),
            "schema": plain(prop),
        }
        for name, prop in schema["properties"].items()
    ]


def request_body() -> dict[str, Any]:
    """The OpenAPI request body of ``POST /predict``."""
    return {
        "required": True,
        "content": {"application/json": {"schema": PredictRequest.model_json_schema()}},
    }


def include(app: FastAPI) -> None:
    """Add the realtime API to ``app`` (workspace in ``app.state.workspace``)."""
    ws: Workspace = app.state.workspace
    app.state.api_keys = KeyRing(ws)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        if not request.url.path.startswith(OWN_PREFIXES):
            return await request_validation_exception_handler(request, exc)
        problems = problems_of(list(exc.errors()))
        fields = ", ".join(p["field"] for p in problems)
        return JSONResponse(
            {"message": f"invalid request: bad or missing fields: {fields}", "errors": problems},
            status_code=400,
        )

    @app.get(
        "/predict",
        tags=["predict"],
        summary="Score one transaction (the seed's API Gateway GET)",
        responses=RESPONSES,
        openapi_extra={"parameters": query_parameters()},
    )
    async def get_predict(request: Request) -> JSONResponse:  # served by PredictFastPath
        require_api_key(request)
        return JSONResponse(await answer(request.app.state, dict(request.query_params)))

    @app.post(
        "/predict",
        tags=["predict"],
        summary="Score one transaction sent as JSON",
        responses=RESPONSES,
        openapi_extra={"requestBody": request_body()},
    )
    async def post_predict(request: Request) -> JSONResponse:  # served by PredictFastPath
        require_api_key(request)
        return JSONResponse(await answer(request.app.state,
                                         parse_body(await request.body())))

    app.add_middleware(PredictFastPath)
