"""The console in headless chromium, on the real pipeline with small generated data.

1. start an execution from the form and watch the graph reach Succeeded;
2. open a failed execution (its raw prefix holds no files), read the cause, add the files,
   press Redrive and see it succeed;
3. open a model report from the models page (a model trained by the real engine).

The first two share one workspace and one server per test worker; screenshots of each step go
to ``test-output/<test name>/``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fraudpipe.server import create_app
from fraudpipe.workspace import Workspace, get_workspace
from tests.conftest import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 240_000
CUSTOMERS = 12
SMALL_DATA = {"min_auc": 0.5}  # a few thousand rows: keep the quality gate within reach


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with raw data under ``input/``, set as the handlers' home."""
    from fraudpipe.data import write_kaggle_files

    patch = pytest.MonkeyPatch()
    ws = get_workspace(tmp_path_factory.mktemp("console-e2e"))
    for name, value in {"FRAUDPIPE_HOME": str(ws.root), "FRAUDPIPE_TIME_SCALE": "0.01",
                        "FRAUDPIPE_JOB_MODE": "thread"}.items():
        patch.setenv(name, value)
    write_kaggle_files(ws.local_path("s3://fraudpipe-local/input/"), customers=CUSTOMERS,
                       seed=_trainable_seed())
    yield ws
    patch.undo()


def _trainable_seed() -> int:
    """A seed whose few customers have fraud in the last 15% of the training rows too (the
    engine validates on that slice and needs both labels there)."""
    from fraudpipe.data import generate_kaggle_frames

    for seed in range(1, 30):
        train, _ = generate_kaggle_frames(customers=CUSTOMERS, seed=seed)
        labels = train.sort_values("trans_date_trans_time")["is_fraud"]
        if labels.iloc[int(len(labels) * 0.85):].sum() >= 10:
            return seed
    raise AssertionError(f"no seed gives {CUSTOMERS} customers enough late fraud")


@pytest.fixture(scope="module")
def console(home: Workspace) -> Iterator[str]:
    app = create_app(home, require_api_key=False)
    with live_server(app) as url:
        yield url
    app.state.console_runner.join(timeout=60)


@pytest.fixture
def page(chromium) -> Iterator[object]:
    tab = chromium.new_page(viewport={"width": 1400, "height": 1000})
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    tab.close()


def _start_from_form(page, console: str, **changes: object) -> None:
    page.goto(f"{console}/start")
    box = page.locator("textarea#input")
    data = json.loads(box.input_value())
    assert data["min_auc"] == 0.9 and data["raw_prefix"] == "input/"  # pre-filled defaults
    data.update(changes)
    box.fill(json.dumps(data, indent=2))
    page.click("button#start")
    page.wait_for_url("**/executions/console-*")


def _wait_until_done(page, expected: str) -> None:
    """Wait for the execution to end and the page to reload itself, then check how it ended."""
    page.locator("#execution[data-final]").wait_for()  # rendered by the server once ended
    badge = page.locator("#execution-status")
    if badge.inner_text().strip() != expected:
        cause = page.locator("#execution-cause")
        detail = cause.inner_text() if cause.count() else ""
        pytest.fail(f"execution ended {badge.inner_text()}, not {expected}: {detail[:2000]}")


def _graph_shot(page, path: Path) -> None:
    """The whole graph, not only the part scrolled into view."""
    page.add_style_tag(content=".graph-scroll { max-height: none !important; }")
    page.locator("svg.graph").screenshot(path=path)


def _status_of(page, state: str) -> str:
    classes = page.locator(f'g.state[data-state="{state}"]').get_attribute("class") or ""
    return next((c[3:] for c in classes.split() if c.startswith("st-")), "")


def test_start_from_the_form_and_watch_the_graph_reach_succeeded(
    console: str, page, chromium, output_dir: Path
) -> None:
    _start_from_form(page, console, **SMALL_DATA)

    running = page.locator("g.state.st-running").first
    running.wait_for()  # lights up while it runs
    clicked = running.get_attribute("data-state")
    running.click()  # its details open beside the graph and stay open through the reload
    page.locator(f'#detail .state-detail[data-state="{clicked}"]').wait_for()
    page.screenshot(path=output_dir / "1-running.png")
    name = urlsplit(page.url).path.rsplit("/", 1)[1]
    listing = chromium.new_page(viewport={"width": 1400, "height": 700})
    listing.goto(f"{console}/")
    row = listing.locator("tr", has=listing.locator(f'a[href="/executions/{name}"]'))
    assert "RUNNING" in row.inner_text()
    _wait_until_done(page, "SUCCEEDED")
    row.filter(has_text="SUCCEEDED").wait_for()  # the list refreshed itself, no reload
    assert "Succeeded 1" in listing.locator("nav.filters").inner_text()
    listing.screenshot(path=output_dir / "4-list.png")
    listing.close()
    page.screenshot(path=output_dir / "2-succeeded.png")
    _graph_shot(page, output_dir / "3-succeeded-graph.png")

    for state in ("StartCrawler", "StartEtl", "CreateModelVersion", "QualityGate",
                  "DeployDetectorVersion", "GetBatchStatus", "PipelineSucceeded"):
        assert _status_of(page, state) == "succeeded", state
    assert _status_of(page, "CrawlerFailed") == "notstarted"
    assert f"state={clicked}" in page.url
    assert page.locator("#detail .state-detail .badge-succeeded").count() >= 1
    loops = page.locator('g.state[data-state="WaitForTraining"] text.visits').text_content()
    assert re.fullmatch("\u00d7\\d+", loops), loops  # the polling loop went round
    page.locator('g.state[data-state="QualityGate"]').click()
    page.locator('#detail .state-detail[data-state="QualityGate"]').wait_for()
    assert '"passed": true' in page.locator("#detail .state-output").first.inner_text()


def test_read_the_cause_of_a_failed_execution_redrive_and_see_it_succeed(
    console: str, home: Workspace, page, output_dir: Path
) -> None:
    # GIVEN an execution whose raw prefix holds no files yet
    _start_from_form(page, console, raw_prefix="later/", **SMALL_DATA)
    _wait_until_done(page, "FAILED")

    # WHEN the failed state is opened, its error and cause are shown
    failed = page.locator("g.state.st-failed").first
    name = failed.get_attribute("data-state")
    assert name.startswith("Crawler") or name.endswith("Failed"), name
    failed.click()
    page.locator("#detail .state-detail").wait_for()
    assert page.locator("#detail .error-name").first.inner_text()
    assert page.locator("#detail .error-cause").first.inner_text().strip()
    assert page.locator("#execution-cause").inner_text().strip()
    page.screenshot(path=output_dir / "1-failed-cause.png")

    # AND the files are added, then Redrive pressed
    shutil.copytree(home.local_path("s3://fraudpipe-local/input/"),
                    home.local_path("s3://fraudpipe-local/later/"))
    page.click("button#redrive")

    # THEN the same execution runs again and succeeds, one redrive counted
    _wait_until_done(page, "SUCCEEDED")
    assert page.locator("#fact-redrives").inner_text() == "1"
    assert _status_of(page, "PipelineSucceeded") == "succeeded"
    assert page.locator("button#redrive").count() == 0
    page.screenshot(path=output_dir / "2-redriven-succeeded.png")
    _graph_shot(page, output_dir / "3-redriven-graph.png")


def test_open_a_model_report_from_the_models_page(
    trained: Workspace, page, output_dir: Path
) -> None:
    with live_server(create_app(trained, require_api_key=False)) as console:
        page.goto(f"{console}/")
        page.click("text=Models & detectors")
        page.locator("#model-versions a.report-link").first.wait_for()
        assert page.locator("#detector-versions").get_by_text("ACTIVE").count() >= 1
        page.screenshot(path=output_dir / "1-models.png", full_page=True)

        page.locator("a.report-link").first.click()

        page.wait_for_url("**/report/")
        page.wait_for_load_state("load")
        widths = page.locator("img").evaluate_all("els => els.map(e => e.naturalWidth)")
        assert len(widths) >= 2 and all(width > 0 for width in widths), widths  # charts load
        assert "auc" in page.content().lower()
        page.screenshot(path=output_dir / "2-report.png", full_page=True)
