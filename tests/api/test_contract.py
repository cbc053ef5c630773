"""The realtime API's contract for bad input and authentication (no scoring needed).

Validation runs before the engine is touched, so these hold whatever the workspace contains.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fraudpipe.api.keys import ensure_api_key, load_api_keys
from fraudpipe.api.schema import normalize_timestamp
from fraudpipe.server import create_app
from tests.api.seed import REQUIRED, SEED_QUERY


@pytest.fixture
def client(workspace):
    key = ensure_api_key(workspace)
    with TestClient(create_app(workspace)) as test_client:
        test_client.headers["x-api-key"] = key
        yield test_client


def _fields(response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"].startswith("invalid request")
    return [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("missing", REQUIRED)
def test_each_missing_parameter_is_a_400_naming_it(client, missing):
    query = {k: v for k, v in SEED_QUERY.items() if k != missing}
    response = client.get("/predict", params=query)
    assert _fields(response) == [missing]
    assert response.json()["errors"][0]["problem"] == "required"
    post = client.post("/predict", json=query)
    assert _fields(post) == [missing]


def test_every_bad_field_is_listed_at_once(client):
    query = {**SEED_QUERY, "amt": "abc", "city_pop": "1.5", "cc_num": "4111-1111",
             "zip": "ab", "event_timestamp": "yesterday"}  # fmt: skip
    del query["merchant"]
    fields = _fields(client.get("/predict", params=query))
    assert sorted(fields) == sorted(["amt", "city_pop", "cc_num", "zip", "event_timestamp",
                                     "merchant"])  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amt", "abc"),
        ("amt", "-5"),
        ("amt", "nan"),
        ("amt", "inf"),
        ("city_pop", "many"),
        ("city_pop", "-1"),
        ("cc_num", "not-a-card"),
        ("zip", "97 383"),
        ("trans_num", "has spaces!"),
        ("city", ""),
        ("review", "perhaps"),
    ],
)
def test_bad_types_are_400(client, field, value):
    assert _fields(client.get("/predict", params={**SEED_QUERY, field: value})) == [field]


@pytest.mark.parametrize(
    "value",
    ["2020-13-45T00:00:00Z", "13/10/2020 09:21", "", "1969-12-31T00:00:00Z", "2263-01-01T00:00:00Z",
     "now"],
)
def test_bad_timestamps_are_400(client, value):
    response = client.get("/predict", params={**SEED_QUERY, "event_timestamp": value})
    assert _fields(response) == ["event_timestamp"]


def test_timestamps_are_normalised_to_utc():
    assert normalize_timestamp("2020-10-13T09:21:53.000Z") == "2020-10-13T09:21:53Z"
    assert normalize_timestamp("2020-10-13T09:21:53.000") == "2020-10-13T09:21:53Z"
    assert normalize_timestamp("2020-10-13T11:21:53+02:00") == "2020-10-13T09:21:53Z"


def test_post_bodies_that_are_not_objects_are_400(client):
    assert client.post("/predict", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 400  # fmt: skip
    assert client.post("/predict", json=[1, 2]).status_code == 400


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": ""}])
def test_a_missing_or_wrong_api_key_is_401(workspace, headers):
    ensure_api_key(workspace)
    with TestClient(create_app(workspace)) as anonymous:
        response = anonymous.get("/predict", params=SEED_QUERY, headers=headers)
    assert response.status_code == 401
    assert "x-api-key" in response.json()["message"]


def test_keys_are_generated_once_and_kept(workspace):
    key = ensure_api_key(workspace)
    assert ensure_api_key(workspace) == key and load_api_keys(workspace) == [key]
    assert len(key) >= 32
    assert workspace.config_file.stat().st_mode & 0o077 == 0


def test_auth_can_be_disabled_for_local_use(workspace):
    with TestClient(create_app(workspace, require_api_key=False)) as open_client:
        response = open_client.get("/predict", params={"amt": "1"})
    assert response.status_code == 400


def test_openapi_documents_the_seed_parameters(client):
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/predict"]["get"]["parameters"]}
    assert {name for name, p in params.items() if p["required"]} == set(REQUIRED)
    assert not params["flow_definition"]["required"] and not params["review"]["required"]
    assert {"400", "401", "503"} <= set(spec["paths"]["/predict"]["get"]["responses"])
    assert "post" in spec["paths"]["/predict"]


def test_serve_banner_says_where_the_keys_are():
    from fraudpipe.api.cli import serve_banner

    text = serve_banner("http://127.0.0.1:8000", "/ws/config.json", "secret-key")
    assert "http://127.0.0.1:8000/predict" in text and "/ws/config.json" in text
    assert "secret-key" not in text  # the key itself is not printed
    assert "console:  http://127.0.0.1:8000/ " in text
    assert "not required" in serve_banner("http://127.0.0.1:8000", "/ws/config.json", None)


def test_realtime_scoring_uses_one_openmp_thread_in_the_scoring_thread():
    import threading

    import lightgbm  # noqa: F401  (loads the OpenMP runtime LightGBM uses)
    from threadpoolctl import threadpool_info

    from fraudpipe.api.threads import single_threaded_scoring

    seen = {}

    def scoring_thread():
        seen["limited"] = single_threaded_scoring()
        seen["threads"] = {i["num_threads"] for i in threadpool_info()
                           if i["user_api"] == "openmp"}  # fmt: skip

    worker = threading.Thread(target=scoring_thread)
    worker.start()
    worker.join()
    assert seen == {"limited": True, "threads": {1}}
