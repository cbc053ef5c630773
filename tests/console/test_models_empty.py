"""The models page before any training."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_empty_registry_says_what_creates_versions(client: TestClient) -> None:
    page = client.get("/models")
    assert page.status_code == 200
    assert "No model versions yet" in page.text and "No detector versions yet" in page.text
