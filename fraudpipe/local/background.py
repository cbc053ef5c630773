"""Start or redrive an execution and return at once, while it runs on (``fraudpipe start``, the
console's Start and Redrive buttons).

Why two ways, chosen by the caller: a command that returns to the shell must leave the execution
to a detached process (``detach=True``: a new session running ``fraudpipe run``, output in
``<workspace>/logs/<name>.log``); a long-lived process such as ``fraudpipe serve`` keeps it in its
own threads, so that it can show a failure to start and resume the execution's human reviews.
In-process, a watcher thread keeps the runtime (and the moto session) open until the execution
ends, then closes it; an exception raised meanwhile goes to ``on_failure`` instead of being lost
in the thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fraudpipe.local.history import ExecutionStore
from fraudpipe.local.runtime import (
    ExecutionAlreadyExistsError,
    LocalRuntime,
    new_execution_name,
)
from fraudpipe.workspace import Workspace

__all__ = ["Background", "redrive_in_background", "start_in_background"]

RuntimeFactory = Callable[[Workspace], Any]
#: ``on_failure(action, name, exc)``: action is ``"start"`` or ``"redrive"``
OnFailure = Callable[[str, str, BaseException], None]


@dataclass(frozen=True)
class Background:
    """An execution left running: its name and, in-process, the thread that waits for it."""

    name: str
    watcher: threading.Thread | None = None
    log: str | None = None

    def join(self, timeout: float | None = None) -> None:
        if self.watcher is not None:
            self.watcher.join(timeout)


def start_in_background(
    workspace: Workspace,
    execution_input: dict[str, Any],
    name: str | None = None,
    *,
    prefix: str = "run",
    detach: bool = False,
    runtime_factory: RuntimeFactory | None = None,
    on_failure: OnFailure | None = None,
) -> Background:
    """Start an execution of ``execution_input`` (already validated) and return at once.

    Raises ``ExecutionAlreadyExistsError`` before anything runs if ``name`` is taken; with
    ``detach=False`` also whatever the runtime raises when starting (bad input, setup).
    """
    name = name or new_execution_name(prefix)
    if ExecutionStore(workspace).exists(name):
        raise ExecutionAlreadyExistsError(
            f"an execution named {name!r} already exists in this workspace"
        )
    if detach:
        return _detached_run(workspace, execution_input, name)
    runtime = (runtime_factory or LocalRuntime)(workspace)
    try:
        runtime.start_execution(execution_input, name=name)
    except BaseException:
        runtime.close()
        raise
    return Background(name, _watch(runtime, "start", name, on_failure))


def redrive_in_background(
    workspace: Workspace,
    name: str,
    *,
    runtime_factory: RuntimeFactory | None = None,
    on_failure: OnFailure | None = None,
) -> Background:
    """Redrive the execution ``name`` in this process and return at once."""
    runtime = (runtime_factory or LocalRuntime)(workspace)
    try:
        runtime.redrive(name)
    except BaseException:
        runtime.close()
        raise
    return Background(name, _watch(runtime, "redrive", name, on_failure))


def _watch(
    runtime: Any, action: str, name: str, on_failure: OnFailure | None
) -> threading.Thread:
    """A thread that keeps ``runtime`` open until the execution ``name`` ends."""

    def watch() -> None:
        try:
            runtime.wait(name)
        except Exception as exc:
            if on_failure is not None:
                on_failure(action, name, exc)
        finally:
            runtime.close()

    thread = threading.Thread(target=watch, name=f"fraudpipe-{action}-{name}", daemon=True)
    thread.start()
    return thread


def _detached_run(workspace: Workspace, execution_input: dict[str, Any], name: str) -> Background:
    """``fraudpipe run`` in a new session: it outlives the caller and its terminal."""
    log = workspace.ensure(workspace.root / "logs") / f"{name}.log"
    command = [sys.executable, "-m", "fraudpipe.cli", "run", "--quiet", "--json",
               "--name", name, "--input", json.dumps(execution_input)]  # fmt: skip
    with log.open("ab") as handle:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FRAUDPIPE_HOME": str(workspace.root)},
            start_new_session=True,
        )
    return Background(name, log=str(log))
