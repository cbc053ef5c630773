"""Fixtures of the runtime tests: fast clocks and runtimes that are always closed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fraudpipe.local.runtime import LocalRuntime
from fraudpipe.workspace import Workspace


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits and retry intervals at 1/1000 of their ASL values."""
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.001")


@pytest.fixture
def make_runtime(workspace: Workspace, fast: None) -> Iterator[Callable[..., LocalRuntime]]:
    """``make_runtime(**kwargs)`` -> a LocalRuntime on the test workspace, closed at the end."""
    made: list[LocalRuntime] = []

    def make(**kwargs: Any) -> LocalRuntime:
        runtime = LocalRuntime(workspace, **kwargs)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@pytest.fixture
def fake_conf(workspace: Workspace) -> Callable[..., None]:
    """Set the behaviour of ``tests.local.fake_pipeline`` for this test."""

    def configure(**conf: Any) -> None:
        (workspace.root / "fake.json").write_text(json.dumps(conf))

    return configure
