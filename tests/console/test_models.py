"""Models and detectors page, and model reports served with their charts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fraudpipe.workspace import Workspace

pytestmark = pytest.mark.slow  # trains one real model per test worker


def test_models_page_lists_versions_metrics_rules_and_review_link(
    client: TestClient, trained: Workspace
) -> None:
    page = client.get("/models").text

    row = re.search(r'<table class="list" id="model-versions">.*?</table>', page, re.S).group(0)
    assert "fraud_model" in row and "1.0" in row and "badge-active" in row
    assert re.search(r"<td class=\"num\">[01]\.\d{4}</td>", row)  # the AUC
    assert 'href="/models/fraud_model/1.0/report/"' in row
    detectors = re.search(r'id="detector-versions">.*?</table>', page, re.S).group(0)
    assert "fraud_detector" in detectors and "ACTIVE" in detectors
    assert "$fraud_model_insightscore &gt; 900" in detectors and "high_risk" in detectors
    assert 'href="/review"' in page


def test_report_and_its_charts_are_served(client: TestClient, trained: Workspace) -> None:
    report = client.get("/models/fraud_model/1.0/report/")

    assert report.status_code == 200 and "text/html" in report.headers["content-type"]
    charts = re.findall(r'src="([^"/]+\.png)"', report.text)
    assert charts
    for chart in charts:
        image = client.get(f"/models/fraud_model/1.0/report/{chart}")
        assert image.status_code == 200 and image.content[:4] == b"\x89PNG"


def test_report_files_outside_the_report_folder_are_refused(
    client: TestClient, trained: Workspace
) -> None:
    for sneaky in ("../version.json", "..%2Fversion.json", "%2e%2e/version.json"):
        response = client.get(f"/models/fraud_model/1.0/report/{sneaky}")
        assert response.status_code == 404, sneaky
        assert "registry" not in response.text


def test_unknown_model_report_is_404(client: TestClient, trained: Workspace) -> None:
    response = client.get("/models/fraud_model/9.0/report/")
    assert response.status_code == 404 and "has no report" in response.text
