"""The console in headless chromium: start and watch, fail and redrive, open a model report.

Screenshots of each step go to ``test-output/<test name>/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudpipe.console.runner import ConsoleRunner
from fraudpipe.server import create_app
from fraudpipe.workspace import Workspace
from tests.console import handlers
from tests.console.live import live_server
from tests.console.test_actions import small_runtime

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000


@pytest.fixture
def small_console(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The console serving the small machine (a polling Wait, a Task that needs raw data)."""
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "1")
    app = create_app(workspace, require_api_key=False)
    app.state.console_runner = ConsoleRunner(workspace, runtime_factory=small_runtime)
    with live_server(app) as url:
        yield url
    app.state.console_runner.join(timeout=30)


def _with_raw(prefix: str) -> None:
    raw = handlers.raw_file({"bucket": "fraudpipe-local", "raw_prefix": prefix})
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("a,b\n1,2\n")


def _edit_input(page, **changes: object) -> None:
    box = page.locator("textarea#input")
    data = json.loads(box.input_value())
    for key, value in changes.items():
        data[key] = value
    box.fill(json.dumps(data, indent=2))


def test_start_from_the_form_and_watch_the_graph_reach_succeeded(
    small_console: str, chromium, output_dir: Path, workspace: Workspace
) -> None:
    _with_raw("input/")
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{small_console}/start")
    assert '"min_auc": 0.9' in page.locator("textarea#input").input_value()  # the defaults
    _edit_input(page, poll_seconds={"crawler": 2, "etl": 1, "training": 1, "batch": 1,
                                    "simultaneous_training": 1})
    page.screenshot(path=output_dir / "1-start-form.png")

    page.click("button#start")

    page.wait_for_url("**/executions/console-*")
    running = page.locator("g.state.st-running")
    running.first.wait_for(timeout=TIMEOUT_MS)  # the Wait state lights up while it waits
    page.screenshot(path=output_dir / "2-running.png")
    page.locator("#execution-status", has_text="SUCCEEDED").wait_for(timeout=TIMEOUT_MS)
    page.screenshot(path=output_dir / "3-succeeded.png", full_page=True)
    for state in ("Prepare", "Pause", "LoadRaw", "Loaded?", "Done"):
        classes = page.locator(f'g.state[data-state="{state}"]').get_attribute("class")
        assert "st-succeeded" in classes, (state, classes)
    assert "st-notstarted" in page.locator('g.state[data-state="PrepareFailed"]').get_attribute(
        "class"
    )
    assert page.locator("#events tbody tr").count() >= 15
    page.close()


def test_read_the_cause_of_a_failed_execution_redrive_and_see_it_succeed(
    small_console: str, chromium, output_dir: Path, workspace: Workspace
) -> None:
    # GIVEN an execution started on a raw prefix that holds no files yet
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{small_console}/start")
    _edit_input(page, raw_prefix="later/")
    page.click("button#start")
    page.locator("#execution-status", has_text="FAILED").wait_for(timeout=TIMEOUT_MS)

    # WHEN the failed state is opened
    failed = page.locator("g.state.st-failed")
    assert failed.get_attribute("data-state") == "LoadRaw"
    failed.click()
    cause = page.locator("#detail .error-cause").first
    cause.wait_for()
    assert "no raw file fraudTrain.csv under later/" in cause.inner_text()
    assert page.locator("#detail .error-name").first.inner_text() == "DataValidationError"
    page.screenshot(path=output_dir / "1-failed-cause.png")

    # AND the files are added, then Redrive pressed
    _with_raw("later/")
    page.click("button#redrive")

    # THEN the same execution succeeds after one redrive
    page.locator("#execution-status", has_text="SUCCEEDED").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#fact-redrives").inner_text() == "1"
    assert "st-succeeded" in page.locator('g.state[data-state="LoadRaw"]').get_attribute("class")
    assert page.locator("button#redrive").count() == 0
    page.screenshot(path=output_dir / "2-redriven-succeeded.png", full_page=True)
    page.close()


def test_open_a_model_report_from_the_models_page(
    trained: Workspace, chromium, output_dir: Path
) -> None:
    app = create_app(trained, require_api_key=False)
    with live_server(app) as url:
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/")
        page.click("text=Models & detectors")
        page.locator("#model-versions").wait_for()
        page.screenshot(path=output_dir / "1-models.png", full_page=True)

        page.click("a.report-link")

        page.wait_for_url("**/models/fraud_model/1.0/report/")
        images = page.locator("img")
        assert images.count() >= 2
        page.wait_for_load_state("load")
        widths = images.evaluate_all("els => els.map(e => e.naturalWidth)")
        assert all(width > 0 for width in widths), widths  # every chart loaded
        assert "AUC" in page.content() or "auc" in page.content()
        page.screenshot(path=output_dir / "2-report.png", full_page=True)
        page.close()
