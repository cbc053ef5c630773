"""``/predict`` is answered by the ASGI fast path exactly as the FastAPI routes would answer it:
same keys (header or the review pages' cookie), same 400 bodies, other methods and paths
passed on to FastAPI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fraudpipe.api.fastpath import COOKIE, PredictFastPath
from fraudpipe.api.keys import ensure_api_key
from fraudpipe.server import create_app
from tests.api.seed import SEED_QUERY


@pytest.fixture
def app(workspace):
    return create_app(workspace)


def test_the_fast_path_is_in_front_of_the_router(app):
    assert any(m.cls is PredictFastPath for m in app.user_middleware)


def test_the_review_cookie_is_accepted_when_the_header_is_absent(app, workspace):
    key = ensure_api_key(workspace)
    with TestClient(app) as client:
        client.cookies.set(COOKIE, key)
        assert client.get("/predict", params={"amt": "1"}).status_code == 400
        client.cookies.set(COOKIE, "wrong")
        assert client.get("/predict", params={"amt": "1"}).status_code == 401


def test_the_last_of_a_repeated_parameter_counts(app, workspace):
    key = ensure_api_key(workspace)
    query = [(k, v) for k, v in SEED_QUERY.items() if k != "amt"] + [("amt", "1"),
                                                                     ("amt", "abc")]
    with TestClient(app, headers={"x-api-key": key}) as client:
        response = client.get("/predict", params=query)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["amt"]


def test_other_methods_and_paths_go_on_to_fastapi(app, workspace):
    key = ensure_api_key(workspace)
    with TestClient(app, headers={"x-api-key": key}) as client:
        assert client.put("/predict", json={}).status_code == 405
        assert client.get("/openapi.json").status_code == 200


def test_a_bad_body_is_the_same_400_as_from_the_route(app, workspace):
    key = ensure_api_key(workspace)
    with TestClient(app, headers={"x-api-key": key}) as client:
        response = client.post("/predict", content=b"\xff\xfe",
                               headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "message": "invalid request: bad or missing fields: body",
        "errors": [{"field": "body", "problem": "not valid JSON"}],
    }


def test_a_request_whose_client_has_gone_is_not_scored(app, workspace):
    import asyncio
    from types import SimpleNamespace

    class Unreachable:
        def predict(self, request):
            raise AssertionError("scored a request nobody waits for")

    owner = SimpleNamespace(state=SimpleNamespace(require_api_key=False, predictor=Unreachable()))
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def downstream(scope, receive, send):
        raise AssertionError("passed on to FastAPI")

    scope = {"type": "http", "method": "GET", "path": "/predict", "app": owner,
             "query_string": b"amt=1", "headers": []}  # fmt: skip
    asyncio.run(PredictFastPath(downstream)(scope, receive, send))
    assert sent == []


def test_in_front_of_the_app_the_answers_are_the_apps(app, workspace):
    from fraudpipe.api.fastpath import front

    key = ensure_api_key(workspace)
    query = {**SEED_QUERY, "amt": "-1", "zip": "x"}
    answers = []
    for served in (app, front(app)):
        with TestClient(served, headers={"x-api-key": key}) as client:
            answers.append([
                (r.status_code, r.headers["content-type"], r.content) for r in (
                    client.get("/predict", params=query),
                    client.post("/predict", json=query),
                    client.get("/predict", params=SEED_QUERY, headers={"x-api-key": "no"}),
                    client.put("/predict", json={}),
                    client.get("/openapi.json"),
                )])  # fmt: skip
    assert answers[0] == answers[1]
    assert [status for status, _, _ in answers[1]] == [400, 400, 401, 405, 200]


def test_in_front_of_the_app_a_failure_is_a_plain_500_and_is_raised(app, workspace):
    import asyncio

    from fraudpipe.api.fastpath import front

    class Broken:
        def predict_many(self, requests):
            raise RuntimeError("boom")

    app.state.require_api_key = False
    app.state.predictor = Broken()
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/predict", "headers": [],
             "query_string": "&".join(f"{k}={v}" for k, v in SEED_QUERY.items()).encode()}
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(front(app)(scope, receive, send))
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


def test_the_query_is_read_as_parse_qsl_reads_it():
    import random
    from urllib.parse import parse_qsl

    from fraudpipe.api.fastpath import _query

    rng = random.Random(5)
    alphabet = "ab=&+% 2Fz\u00e9%7A3"
    cases = [b"", b"&&a=1&&", b"a", b"a=1=2", b"k=%2B+%26", b"x=%E2%82%AC&y=%ff", b"\xe9=\xff",
             b"t=2020-10-13T09%3A21%3a53Z", b"%7f%7F=%80%00%", b"a=%4&b=%%41&c=%4g",
             b"%41%42=x%2c+y", b"e=\xe9%41\xe9%C3%A9", b"z=%20%2b%2B"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
              .encode("latin-1") for _ in range(3000)]  # fmt: skip
    for raw in cases:
        assert _query(raw) == dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)), raw


def test_without_the_fast_path_the_routes_answer_the_same(workspace):
    key = ensure_api_key(workspace)
    query = {**SEED_QUERY, "amt": "-1", "zip": "x"}
    answers = []
    for fast in (True, False):
        # GIVEN the app as built, and the same app with its fast path left out
        served = create_app(workspace)
        if not fast:
            served.user_middleware = [m for m in served.user_middleware
                                      if m.cls is not PredictFastPath]
        with TestClient(served, headers={"x-api-key": key}) as client:
            # WHEN bad, unauthorised and valid requests (no detector yet: 503) are sent
            answers.append([(r.status_code, r.json()) for r in (
                client.get("/predict", params=query),
                client.post("/predict", json=query),
                client.get("/predict", params=SEED_QUERY, headers={"x-api-key": "no"}),
                client.get("/predict", params=SEED_QUERY),
                client.post("/predict", json=SEED_QUERY),
            )])  # fmt: skip
    # THEN the routes answer exactly what the fast path answers
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[1]] == [400, 400, 401, 503, 503]
