"""Fixtures of the console tests: an app on a temporary workspace and its test client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fraudpipe.server import create_app
from fraudpipe.workspace import Workspace


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    app = create_app(workspace, require_api_key=False)
    with TestClient(app) as test_client:
        yield test_client
    app.state.console_runner.join(timeout=30)
