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
from urllib.parse import unquote

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
           "dump_json", "front"]

PATH = "/predict"
COOKIE = "fraudpipe_api_key"
_HEADER = HEADER.encode()
_JSON_HEADERS = [(b"content-type", b"application/json")]
_TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
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


async def answer(state: Any, data: Any) -> dict[str, Any]:
    """Score the request fields ``data`` (query dict or parsed JSON) with the app's predictor,
    through its :class:`ScoringQueue`; raises the request's ApiError."""
    return await scoring_queue(state).predict(valid_request(data))


def _query(raw: bytes) -> dict[str, str]:
    """The query string as a dict (last value of a repeated name wins, blanks kept), as
    Starlette's ``dict(request.query_params)`` gives it.

    The same pairs as ``urllib.parse.parse_qsl(..., keep_blank_values=True)`` (a test compares
    them), which cost ~15 µs of a request's ~50 µs outside scoring: a part is decoded only if
    it has a ``+`` or a ``%`` (``unquote`` of ``+``-replaced text is what ``parse_qsl`` does).
    """
    out: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = _unquote(name)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:  # (unquote leaves a text without one as it is)
            value = _unquote(value)
        out[name] = value
    return out


#: Every two-hex-digit escape (either case) of an ASCII character, and that character.
_ASCII_ESCAPES = {a + b: chr(int(a + b, 16)) for a in "01234567"
                  for b in "0123456789abcdefABCDEF"}


def _unquote(text: str) -> str:
    """``unquote(text)``: escapes of ASCII characters (a timestamp's ``%3A``) replaced here,
    anything else (UTF-8 sequences, malformed escapes) left to ``unquote``.

    Why it is the same: ``unquote`` turns the escapes of a run of ASCII text into bytes and
    decodes them as UTF-8, where an ASCII byte is its own character, and keeps non-ASCII
    characters as they are; ~3 µs per call, paid by almost every request for its timestamp.
    """
    head, *rest = text.split("%")
    out = [head]
    for part in rest:
        found = _ASCII_ESCAPES.get(part[:2])
        if found is None:
            return unquote(text)
        out.append(found)
        out.append(part[2:])
    return "".join(out)


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
    """ASGI middleware: answers ``GET``/``POST /predict``, passes everything else on.

    Inside the app (``app.add_middleware``) it finds the app's state in the scope; in front of
    the whole app (:func:`front`, what ``fraudpipe serve`` runs) it is given the state and
    answers an unexpected failure with the 500 Starlette's error middleware would send.
    """

    def __init__(self, app: Any, state: Any = None) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or scope["path"] != PATH or method not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        if self.state is None:  # inside the app: its error middleware answers failures
            answered = await self._answer(scope["app"].state, method, scope, receive)
        else:
            try:
                answered = await self._answer(self.state, method, scope, receive)
            except Exception:  # nothing was sent: Starlette's ServerErrorMiddleware answer
                await _send(send, 500, b"Internal Server Error", _TEXT_HEADERS)
                raise  # and the server logs it, as it would from the app
        if answered is not None:
            await _send(send, *answered, _JSON_HEADERS)

    async def _answer(self, state: Any, method: str, scope: dict[str, Any], receive: Any,
                      ) -> tuple[int, bytes] | None:
        """The status and JSON body to send; None if the client has gone (nothing to send)."""
        for _ in range(SETTLE_TURNS):  # let the loop read and report a close that came along
            await asyncio.sleep(0)
        raw = await _body(receive)  # a GET's is empty, but this also tells if the client left
        if raw is None:  # it did (e.g. timed out in a queue): scoring would be wasted work
            return None
        try:
            denied = api_key_problem(state, _presented_key(scope["headers"]))
            if denied is not None:
                raise denied
            data = _query(scope["query_string"]) if method == "GET" else parse_body(raw)
            status, body = 200, await answer(state, data)
        except ApiError as exc:
            status, body = exc.status, error_body(exc)
        return status, dump_json(body)


async def _send(send: Any, status: int, payload: bytes,
                headers: list[tuple[bytes, bytes]]) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(payload)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": payload})


def front(app: Any) -> PredictFastPath:
    """``app`` with the predict routes answered in front of its whole middleware stack.

    Why: FastAPI's own middlewares (error, telemetry and body-limit wrappers) and Starlette's
    dispatch cost ~20-50 µs of CPU per request before the fast path inside the app is reached;
    ``/predict`` needs none of them (it reads no body limit: FastAPI's default has none).
    Everything else still goes through the app unchanged.
    """
    return PredictFastPath(app, state=app.state)
