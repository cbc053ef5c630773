"""Executions left running after the call returns: in this process (console) or detached (CLI)."""

from __future__ import annotations

import time

import pytest

from fraudpipe.local.background import redrive_in_background, start_in_background
from fraudpipe.local.runtime import ExecutionAlreadyExistsError, LocalRuntime
from fraudpipe.workspace import Workspace
from tests.local.test_runtime import FUNCTIONS, _machine


def _factory(ws: Workspace) -> LocalRuntime:
    return LocalRuntime(ws, definition=_machine(catch=False), functions=FUNCTIONS)


def test_in_process_start_and_redrive_run_on_and_close_their_runtime(workspace, fast):
    # WHEN an execution is started in the background
    run = start_in_background(workspace, {"i": 1}, prefix="console", runtime_factory=_factory)
    # THEN the call returned at once with a watcher that sees it end (Second fails once)
    assert run.name.startswith("console-") and run.watcher is not None
    run.join(timeout=30)
    assert not run.watcher.is_alive()
    runtime = _factory(workspace)
    assert runtime.describe(run.name)["status"] == "FAILED"
    # WHEN it is redriven in the background, THEN it succeeds as the same execution
    again = redrive_in_background(workspace, run.name, runtime_factory=_factory)
    again.join(timeout=30)
    record = runtime.describe(run.name)
    assert record["status"] == "SUCCEEDED" and record["redrive_count"] == 1
    # (the autouse leak check fails this test if either runtime stayed open)


def test_a_taken_name_is_refused_before_anything_starts(workspace, fast):
    run = start_in_background(workspace, {}, name="same", runtime_factory=_factory)
    run.join(timeout=30)
    for detach in (False, True):
        with pytest.raises(ExecutionAlreadyExistsError, match="'same' already exists"):
            start_in_background(workspace, {}, name="same", detach=detach,
                                runtime_factory=_factory)  # fmt: skip
    assert not (workspace.root / "logs").exists()  # no detached process was spawned


@pytest.mark.slow
def test_detached_start_runs_fraudpipe_run_in_its_own_process(workspace):
    # GIVEN an input `fraudpipe run` refuses (so the child ends quickly, before any data work)
    run = start_in_background(workspace, {"engine": "nope"}, name="detached-1", detach=True)
    # THEN the child ran in this workspace with this name and input, logging to its own file
    assert run.watcher is None and run.log == str(workspace.root / "logs" / "detached-1.log")
    deadline = time.monotonic() + 60
    log = workspace.root / "logs" / "detached-1.log"
    while "engine: 'nope' is not one of" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.1)
    assert not workspace.executions_dir.exists()
