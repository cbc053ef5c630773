"""Fixtures of the API tests: one trained workspace per test worker, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fraudpipe.workspace import Workspace, get_workspace
from tests.api.trained import train_active_detector


@pytest.fixture(scope="session")
def trained_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace folder with an ACTIVE detector (trained once per worker)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FRAUDPIPE_JOB_MODE", "thread")
    root = tmp_path_factory.mktemp("api-trained") / "ws"
    try:
        train_active_detector(get_workspace(root))
    finally:
        mp.undo()
    return root


@pytest.fixture
def trained_ws(workspace: Workspace, trained_root: Path, monkeypatch) -> Workspace:
    """The test's own workspace holding a copy of the trained one (fresh entity store)."""
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")
    skip = shutil.ignore_patterns("entity_store.sqlite*", "*.lock", "jobs")
    shutil.copytree(trained_root, workspace.root, dirs_exist_ok=True, ignore=skip)
    return workspace
