"""Console pages and their JSON endpoints, on fixture histories (no runtime needed)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from fraudpipe.workspace import Workspace
from tests.console.fakes import T0, HistoryWriter, pipeline_run


def _seed(ws: Workspace) -> None:
    for index, outcome in enumerate(("succeeded", "failed", "caught", "running")):
        pipeline_run(f"fx-{outcome}", outcome, start=T0 + timedelta(minutes=index)).save(ws)


def test_home_lists_executions_with_links_and_live_refresh(
    client: TestClient, workspace: Workspace
) -> None:
    _seed(workspace)

    page = client.get("/").text

    names = re.findall(r'href="/executions/(fx-\w+)"', page)
    assert names == ["fx-running", "fx-caught", "fx-failed", "fx-succeeded"]
    assert 'data-running="1"' in page
    assert 'title="EtlError"' in page  # a failed execution's error is in its row
    assert "refreshes by itself" in page


def test_status_filter_keeps_only_that_status(client: TestClient, workspace: Workspace) -> None:
    _seed(workspace)

    page = client.get("/?status=failed").text

    assert re.findall(r'href="/executions/(fx-\w+)"', page) == ["fx-caught", "fx-failed"]
    data = client.get("/console/api/executions?status=SUCCEEDED").json()
    assert data["running"] == 1
    assert "fx-succeeded" in data["html"] and "fx-failed" not in data["html"]


def test_empty_workspace_says_how_to_start(client: TestClient) -> None:
    page = client.get("/").text
    assert "No executions" in page and 'href="/start"' in page


def test_failed_execution_page_shows_graph_cause_redrive_and_events(
    client: TestClient, workspace: Workspace
) -> None:
    _seed(workspace)

    page = client.get("/executions/fx-failed").text

    assert re.search(r'class="state st-failed type-Task"\s+data-state="StartEtl"', page)
    assert re.search(r'class="state st-succeeded type-Task"\s+data-state="StartCrawler"', page)
    assert re.search(r'class="state st-notstarted type-Task"\s+data-state="QualityGate"', page)
    assert "raw file fraudTrain.csv: no such file" in page
    assert 'id="redrive"' in page
    assert page.count("<tr class=") >= 30  # the event list


def test_succeeded_execution_has_no_redrive_and_shows_output(
    client: TestClient, workspace: Workspace
) -> None:
    _seed(workspace)

    page = client.get("/executions/fx-succeeded").text

    assert 'id="redrive"' not in page
    assert "Execution output" in page and "review_candidates" in page  # the output JSON


def test_state_details_show_input_output_retries_and_error(
    client: TestClient, workspace: Workspace
) -> None:
    _seed(workspace)

    caught = client.get("/executions/fx-caught?state=QualityGate").text
    retried = client.get("/console/api/executions/fx-succeeded/states/GetCrawlerStatus").text

    assert "QualityGateError" in caught and "AUC 0.71 is below min_auc 0.9" in caught
    assert "badge-caught" in caught and 'class="state-input"' in caught
    assert "Visit 1 of 2" in retried and "Visit 2 of 2" in retried
    assert 'data-mark="succeeded/2"' in retried  # what the live script compares against
    assert re.search(r'class="visit-retries">1<', retried)
    assert "TransientError" in retried


def test_live_endpoint_returns_statuses_and_only_new_events(
    client: TestClient, workspace: Workspace
) -> None:
    _seed(workspace)

    everything = client.get("/console/api/executions/fx-running/live").json()
    later = client.get(
        f"/console/api/executions/fx-running/live?after={everything['last_event_id'] - 2}"
    ).json()

    assert everything["status"] == "RUNNING" and not everything["terminal"]
    assert everything["states"]["GetTrainingStatus"] == "running"
    assert everything["visits"]["WaitForTraining"] == 3
    assert later["rows_html"].count("<tr") == 2
    assert everything["rows_html"].count("<tr") == everything["events"]


def test_unknown_execution_is_a_404_page(client: TestClient) -> None:
    response = client.get("/executions/nope")
    assert response.status_code == 404 and "No execution named" in response.text
    assert client.get("/console/api/executions/nope/live").status_code == 404


def test_static_assets_ship_with_the_package(client: TestClient) -> None:
    page = client.get("/").text
    for asset in re.findall(r'(?:href|src)="(/console-static/[^"]+)"', page):
        assert client.get(asset).status_code == 200
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_a_damaged_definition_still_shows_the_history(
    client: TestClient, workspace: Workspace
) -> None:
    folder = pipeline_run("damaged", "failed").save(workspace)
    (folder / "definition.asl.json").write_text("{not json")

    page = client.get("/executions/damaged")

    assert page.status_code == 200
    assert "raw file fraudTrain.csv: no such file" in page.text and "TaskStateEntered" in page.text


def test_a_state_waiting_for_reviewers_links_to_the_review_queue(
    client: TestClient, workspace: Workspace
) -> None:
    definition = json.dumps({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "End": True}}})
    history = HistoryWriter("asking")
    history.enter("Ask")
    history.save(workspace, definition)

    page = client.get("/executions/asking").text

    assert 'id="waiting-callback"' in page and 'href="/review"' in page
