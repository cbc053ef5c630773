"""Fixtures shared by every test tier."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fraudpipe.workspace import Workspace, get_workspace

EVENTS_DIR = Path(__file__).parent / "events"
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh workspace in a temporary folder, set as ``FRAUDPIPE_HOME``."""
    root = tmp_path / "ws"
    root.mkdir()
    monkeypatch.setenv("FRAUDPIPE_HOME", str(root))
    yield get_workspace(root)


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Folder for a test's artefacts (screenshots, reports) under ``test-output/``."""
    path = OUTPUT_DIR / request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class FakeLambdaContext:
    """The attributes powertools reads from a Lambda context."""

    function_name: str = "fraudpipe-test"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fraudpipe-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def load_event(name: str) -> dict:
    """A canonical event from ``tests/events/<name>.json``."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())
