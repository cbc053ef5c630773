"""Start and redrive from the console on the real local runtime (a small state machine)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fraudpipe.console.runner import ConsoleRunner
from fraudpipe.server import create_app
from fraudpipe.workspace import Workspace
from tests.console import handlers

pytestmark = pytest.mark.slow


def small_runtime(ws: Workspace):
    from fraudpipe.local.runtime import LocalRuntime
    from statemachines.inputs import validate_input

    return LocalRuntime(ws, definition=handlers.definition(), functions=handlers.FUNCTIONS,
                        validator=validate_input)


@pytest.fixture
def small(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.01")
    app = create_app(workspace, require_api_key=False)
    app.state.console_runner = ConsoleRunner(workspace, runtime_factory=small_runtime)
    with TestClient(app) as client:
        yield client
    app.state.console_runner.join(timeout=30)


def wait_status(client: TestClient, name: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        live = client.get(f"/console/api/executions/{name}/live").json()
        if live.get("terminal") or time.monotonic() > deadline:
            return live
        time.sleep(0.05)


def start(client: TestClient, text: str):
    return client.post("/start", data={"input": text}, follow_redirects=False)


def test_form_is_prefilled_with_the_defaults(small: TestClient) -> None:
    page = small.get("/start").text
    assert '&#34;raw_prefix&#34;: &#34;input/&#34;' in page
    assert '&#34;min_auc&#34;: 0.9' in page


def test_bad_json_is_refused_with_its_line(small: TestClient, workspace: Workspace) -> None:
    response = start(small, '{\n  "mode": "create",\n  "min_auc": 0.9,,\n}')

    assert response.status_code == 400
    problem = r"\(JSON\) the form, line 3, column 18"
    assert re.search(rf'data-line="3".*line 3.*{problem}', response.text, re.S)
    assert not workspace.executions_dir.exists()


def test_schema_problems_are_listed_next_to_the_field(small: TestClient) -> None:
    text = '{\n  "batch": {\n    "mode": "everything"\n  },\n  "min_auc": 2\n}'

    response = start(small, text)

    assert response.status_code == 400
    errors = re.findall(r'<li class="input-error"(?: data-line="(\d+)")?>(.*?)</li>',
                        response.text, re.S)
    by_text = {re.sub(r"<[^>]+>", "", body): line for line, body in errors}
    assert any("batch.mode" in t and line == "3" for t, line in by_text.items()), by_text
    assert any("min_auc" in t and line == "5" for t, line in by_text.items()), by_text
    assert "&#34;everything&#34;" in response.text  # the user's text is kept, not reset


def test_start_then_fail_then_redrive_to_success(small: TestClient, workspace: Workspace) -> None:
    # GIVEN an input whose raw prefix holds no data
    text = '{"raw_prefix": "later/"}'

    # WHEN it is started from the form
    response = start(small, text)
    assert response.status_code == 303
    name = response.headers["location"].rsplit("/", 1)[1]
    failed = wait_status(small, name)

    # THEN it fails in LoadRaw, and the page says why and offers Redrive
    assert failed["status"] == "FAILED" and failed["states"]["LoadRaw"] == "failed"
    assert failed["states"]["Prepare"] == "succeeded"
    page = small.get(f"/executions/{name}").text
    assert "no raw file fraudTrain.csv under later/" in page and 'id="redrive"' in page

    # WHEN the file is added and Redrive pressed
    raw = handlers.raw_file({"bucket": "fraudpipe-local", "raw_prefix": "later/"})
    raw.parent.mkdir(parents=True)
    raw.write_text("a,b\n1,2\n")
    redirect = small.post(f"/executions/{name}/redrive", follow_redirects=False)
    assert redirect.status_code == 303
    done = wait_status(small, name)

    # THEN the same execution succeeds, LoadRaw's second visit succeeded, one redrive counted
    assert done["status"] == "SUCCEEDED" and done["states"]["LoadRaw"] == "succeeded"
    page = small.get(f"/executions/{name}?state=LoadRaw").text
    assert 'id="redrive"' not in page and "ExecutionRedriven" in page
    assert "Visit 2 of 2" in page and '<dd id="fact-redrives">1</dd>' in page
    assert re.search(r'id="fact-redrive-from">LoadRaw ·', page)


def test_redrive_of_a_succeeded_execution_is_refused(
    small: TestClient, workspace: Workspace
) -> None:
    raw = handlers.raw_file({"bucket": "fraudpipe-local", "raw_prefix": "input/"})
    raw.parent.mkdir(parents=True)
    raw.write_text("a\n1\n")
    name = start(small, "{}").headers["location"].rsplit("/", 1)[1]
    assert wait_status(small, name)["status"] == "SUCCEEDED"

    response = small.post(f"/executions/{name}/redrive")

    assert response.status_code == 409 and "can be redriven" in response.text


def test_forms_posted_from_another_site_are_refused(
    small: TestClient, workspace: Workspace
) -> None:
    evil = {"origin": "http://evil.example"}

    started = small.post("/start", data={"input": "{}"}, headers=evil)
    redriven = small.post("/executions/anything/redrive", headers=evil)

    assert started.status_code == 403 and redriven.status_code == 403
    assert not workspace.executions_dir.exists()
