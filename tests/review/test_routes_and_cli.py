"""Review pages and JSON API under `fraudpipe serve`, and `fraudpipe review list|decide`."""

from __future__ import annotations

import csv
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fraudpipe.api.keys import ensure_api_key
from fraudpipe.cli import app as cli_app
from fraudpipe.review.queue import ReviewQueue
from fraudpipe.server import create_app


@pytest.fixture
def queue(workspace):
    queue = ReviewQueue(workspace.review_db)
    queue.add("loop-low", "exec-1", "ev-1", 720.0, {"trans_num": "ev-1", "merchant": "m1"})
    queue.add("loop-high", "exec-1", "ev-2", 880.0, {"trans_num": "ev-2", "merchant": "m2"})
    return queue


@pytest.fixture
def client(workspace):
    key = ensure_api_key(workspace)
    with TestClient(create_app(workspace)) as test_client:
        test_client.headers["x-api-key"] = key
        yield test_client


def test_review_api_lists_and_answers(client, queue, workspace):
    items = client.get("/review/api/items", params={"status": "PENDING"}).json()
    assert [i["loop_name"] for i in items] == ["loop-high", "loop-low"]
    answered = client.post("/review/api/items/loop-high", json={"verdict": "fraud"})
    assert answered.status_code == 200 and answered.json()["verdict"] == "fraud"
    assert client.post("/review/api/items/loop-high", json={"verdict": "legit"}).status_code == 409
    assert client.post("/review/api/items/nope", json={"verdict": "legit"}).status_code == 404
    bad = client.post("/review/api/items/loop-low", json={"verdict": "maybe"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "verdict"
    assert client.get("/review/api/summary").json()["pending"] == 1
    rows = list(csv.DictReader((workspace.labels_dir / "labels.csv").open()))
    assert [(r["EVENT_ID"], r["EVENT_LABEL"]) for r in rows] == [("ev-2", "fraud")]


def test_review_page_logs_in_with_the_key_and_answers_by_form(workspace, queue):
    key = ensure_api_key(workspace)
    with TestClient(create_app(workspace)) as browser:
        refused = browser.get("/review")
        assert refused.status_code == 401 and "/review?key=" in refused.text
        assert browser.get("/review", params={"key": "wrong"}).status_code == 401
        page = browser.get("/review", params={"key": key})  # sets the cookie, redirects
        assert page.status_code == 200 and "loop-high" in page.text and "m2" in page.text
        done = browser.post("/review/items/loop-high/decide", data={"verdict": "legit"})
        assert done.status_code == 200 and "Recorded: loop-high" in done.text
        assert 'data-loop="loop-high"' not in done.text
        bad = browser.post("/review/items/loop-low/decide", data={"verdict": "x"})
        assert bad.status_code == 400
    assert queue.get("loop-high").verdict == "legit"


def test_cli_lists_and_decides(workspace, queue):
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["review", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.index("loop-high") < listed.output.index("loop-low")
    decided = runner.invoke(cli_app, ["review", "decide", "loop-low", "--verdict", "legit"])
    assert decided.exit_code == 0 and "loop-low: legit" in decided.output
    again = runner.invoke(cli_app, ["review", "decide", "loop-low", "--verdict", "fraud"])
    assert again.exit_code == 1 and "already answered" in again.output
    wrong = runner.invoke(cli_app, ["review", "decide", "loop-high", "--verdict", "maybe"])
    assert wrong.exit_code == 1 and "verdict must be one of" in wrong.output
    as_json = json.loads(runner.invoke(cli_app, ["review", "list", "--all", "--json"]).output)
    assert {i["loop_name"]: i["status"] for i in as_json} == {
        "loop-high": "PENDING",
        "loop-low": "ANSWERED",
    }
