"""Fixtures of the console tests: an app on a temporary workspace and its test client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from filelock import FileLock

from fraudpipe.server import create_app
from fraudpipe.workspace import Workspace, get_workspace
from tests.console.models import train_and_deploy, training_file


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    app = create_app(workspace, require_api_key=False)
    with TestClient(app) as test_client:
        yield test_client
    app.state.console_runner.join(timeout=30)


@pytest.fixture(scope="session")
def trained_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with a trained, ACTIVE model version and detector version.

    Trained once per test run: the folder is shared by the xdist workers (the parent of their
    temporary roots) and the first worker to take the lock trains it.
    """
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "console-trained"
    with FileLock(str(shared) + ".lock"):
        if not (shared / "done").exists():
            patch = pytest.MonkeyPatch()
            patch.setenv("FRAUDPIPE_JOB_MODE", "thread")
            try:
                shutil.rmtree(shared, ignore_errors=True)
                ws = get_workspace(shared)
                ws.ensure(ws.root)
                train_and_deploy(ws, training_file(ws.root))
            finally:
                patch.undo()
            (shared / "done").touch()
    return get_workspace(shared).registry_dir


@pytest.fixture
def trained(workspace: Workspace, trained_registry: Path) -> Workspace:
    """The test's workspace holding a copy of the trained registry."""
    shutil.copytree(trained_registry, workspace.registry_dir,
                    ignore=shutil.ignore_patterns("entity_store.sqlite*", ".lock"))
    return workspace
