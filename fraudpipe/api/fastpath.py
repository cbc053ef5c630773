"""``GET /predict`` and ``POST /predict`` answered beneath the framework (pure ASGI).

Why: a prediction is latency-bound, and FastAPI/Starlette's per-request machinery (middleware
stack, routing, ``Request``, dependency solving, ``JSONResponse``) cost ~250 µs of CPU per
request on this project's machine, as much as the HTTP parsing and more than the model. This
middleware answers the two predict routes itself with the same functions the FastAPI routes
use (:func:`answer`), so statuses and bodies cannot drift apart; every other request, and any
other method on ``/predict``, goes on to FastAPI, which also still documents both routes in
``/openapi.json``. An unexpected exception propagates to Starlette's error middleware (500),
as it would from a route.

Requests validated in the same turn of the event loop are scored together
(:class:`ScoringQueue`): the engine scores several events for about the cost of one, so under
load the server's cost per request falls as the queue grows instead of the queue growing
without end; a lone request is scored at once, as before.

A request whose client has disconnected by the time its turn comes is dropped unscored (its
event is not added to the card's history): under overload, scoring requests nobody waits for
any more turned a queue into a collapse. The server learns of a disconnect when its event loop
reads it, which for a request read together with its client's close is *after* the request's
task was created: so the task first yields to the loop for :data:`SETTLE_TURNS` turns, in
which the loop reads the close and reports it, and only then reads its body
(``http.disconnect`` if the client is gone). A client that leaves after that is still scored.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import cookie_parser

from fraudpipe.api.errors import ApiError, BadRequestError, UnauthorizedError
from fraudpipe.api.keys import HEADER
from fraudpipe.api.schema import PredictRequest, validate_request
from fraudpipe.api.service import Predictor

try:  # optional speed-up of the response body; same JSON as the standard library's
    import orjson

    def dump_json(body: dict[str, Any]) -> bytes:
        return orjson.dumps(body)
except ImportError:  # pragma: no cover - orjson is a pinned dependency

    def dump_json(body: dict[str, Any]) -> bytes:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


__all__ = ["COOKIE", "PATH", "PredictFastPath", "ScoringQueue", "answer", "api_key_problem",
           "dump_json"]

PATH = "/predict"
COOKIE = "fraudpipe_api_key"
_HEADER = HEADER.encode()
_JSON_HEADERS = [(b"content-type", b"application/json")]
_build_lock = threading.Lock()
#: Turns of the event loop a request yields before it is read. A client's close that arrived
#: with its request is read by the loop one turn after the request (the read that brought the
#: request stopped at the end of its data) and reported to the app ("connection lost") in the
#: turn after that; two yields cost a few µs.
SETTLE_TURNS = 2


def api_key_problem(state: Any, presented: str | None) -> UnauthorizedError | None:
    """The 401 to answer, or None if the key is valid or keys are not required."""
    if not getattr(state, "require_api_key", True) or state.api_keys.valid(presented):
        return None
    return UnauthorizedError(
        f"missing or invalid API key: send it in the {HEADER} header "
        "(`fraudpipe serve` prints where the keys are)"
    )


def predictor_of(state: Any) -> Predictor:
    """The app's predictor, built on first use (after the request was validated)."""
    found = getattr(state, "predictor", None)
    if found is None:
        with _build_lock:
            found = getattr(state, "predictor", None)
            if found is None:
                from fraudpipe.api.factory import build_predictor

                found = state.predictor = build_predictor(state.workspace)
    return found


def error_body(exc: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"message": str(exc)}
    problems = getattr(exc, "problems", None)
    if problems is not None:
        body["errors"] = problems
    return body


def parse_body(raw: bytes) -> Any:
    """The POST body as JSON; BadRequestError when it is not."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError([{"field": "body", "problem": "not valid JSON"}]) from None


def valid_request(data: Any) -> PredictRequest:
    found = validate_request(data)
    if isinstance(found, list):
        raise BadRequestError(found)
    return found


def answer(state: Any, data: Any) -> dict[str, Any]:
    """Score the request fields ``data`` (query dict or parsed JSON) with the app's predictor."""
    return predictor_of(state).predict(valid_request(data))


def _query(raw: bytes) -> dict[str, str]:
    """The query string as a dict (last value of a repeated name wins, blanks kept), as
    Starlette's ``dict(request.query_params)`` gives it."""
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


def _presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The ``x-api-key`` header (its first occurrence) or, if absent or empty, the cookie."""
    key = cookie = None
    for name, value in headers:
        if name == _HEADER and key is None:
            key = value.decode("latin-1")
        elif name == b"cookie" and cookie is None:
            cookie = value
    if key or cookie is None:
        return key
    return cookie_parser(cookie.decode("latin-1")).get(COOKIE) or None


async def _body(receive: Any) -> bytes | None:
    """The request body; None if the client has already gone (then nothing is scored)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class ScoringQueue:
    """Scores the requests submitted in one turn of the event loop with one engine call.

    The first request of a turn schedules the scoring with ``call_soon``, behind the tasks the
    loop has already made ready (the other requests it read in the same turn), which add
    theirs; at most :attr:`MAX_BATCH` are scored together (the rest in the next call). A
    request alone is scored as soon as its task yields. Scoring runs in the event loop's
    thread (one OpenMP thread, :mod:`fraudpipe.api.threads`), as it did per request.
    """

    #: Bound on the events scored together (the time the loop is busy with one call).
    MAX_BATCH = 32

    def __init__(self, state: Any) -> None:
        self.state = state
        self._pending: list[tuple[PredictRequest, asyncio.Future[dict[str, Any]]]] = []
        self.calls = self.requests = self.largest = 0  # engine calls, requests, largest batch

    async def predict(self, request: PredictRequest) -> dict[str, Any]:
        """The response to ``request``; raises its ApiError."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending.append((request, future))
        if len(self._pending) == 1:
            loop.call_soon(self._score)
        return await future

    def _score(self) -> None:
        batch, self._pending = self._pending[:self.MAX_BATCH], self._pending[self.MAX_BATCH:]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._score)
        self.calls, self.requests = self.calls + 1, self.requests + len(batch)
        self.largest = max(self.largest, len(batch))
        try:
            answers = predictor_of(self.state).predict_many([request for request, _ in batch])
        except Exception as exc:  # unexpected: every request of the batch answers 500
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answered in zip(batch, answers, strict=True):
            if future.done():  # its task was cancelled meanwhile
                continue
            if isinstance(answered, Exception):  # its ApiError, or its own failure (500)
                future.set_exception(answered)
            else:
                future.set_result(answered)


def scoring_queue(state: Any) -> ScoringQueue:
    found = getattr(state, "scoring_queue", None)
    if found is None:
        found = state.scoring_queue = ScoringQueue(state)
    return found


class PredictFastPath:
    """ASGI middleware: answers ``GET``/``POST /predict``, passes everything else on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or scope["path"] != PATH or method not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        for _ in range(SETTLE_TURNS):  # let the loop read and report a close that came along
            await asyncio.sleep(0)
        raw = await _body(receive)  # a GET's is empty, but this also tells if the client left
        if raw is None:  # it did (e.g. timed out in a queue): scoring would be wasted work
            return
        try:
            denied = api_key_problem(state, _presented_key(scope["headers"]))
            if denied is not None:
                raise denied
            data = _query(scope["query_string"]) if method == "GET" else parse_body(raw)
            status, body = 200, await scoring_queue(state).predict(valid_request(data))
        except ApiError as exc:
            status, body = exc.status, error_body(exc)
        payload = dump_json(body)
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": payload})
