"""Start and redrive executions from the console, in background threads of the server process.

Why threads: a pipeline execution lasts from seconds to hours, an HTTP request must not. The
request validates the input (so errors are shown next to the field) and starts the execution
with :mod:`fraudpipe.local.background`, which keeps it running in this process after the
response; a failure meanwhile is kept here so that the execution page can show it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fraudpipe.errors import FraudpipeError
from fraudpipe.logs import get_logger
from fraudpipe.workspace import Workspace

__all__ = [
    "ConsoleRunner",
    "LaunchProblem",
    "RuntimeUnavailableError",
    "locate_problem",
    "parse_input_text",
]

logger = get_logger("console")


class RuntimeUnavailableError(FraudpipeError):
    """The local runtime (``fraudpipe.local.runtime``) cannot be imported."""


@dataclass(frozen=True)
class LaunchProblem:
    """Why a start or redrive asked for from the console did not happen."""

    action: str
    error: str
    message: str


def parse_input_text(text: str) -> dict[str, Any]:
    """Parse the start form's JSON (a syntax error names its line and column)."""
    from statemachines.inputs import parse_input_text as parse

    return parse(text, source="the form")


def locate_problem(text: str, problem: str) -> int | None:
    """The line of ``text`` a ``path: reason`` problem is about (1-based), if it can be found.

    Follows the path's keys through the JSON text at their nesting depth, so ``mode`` is the
    top-level key and ``batch.mode`` the one inside ``batch``; a JSON syntax problem already
    names its line.
    """
    if problem.startswith("(JSON) "):
        from statemachines.inputs import json_problem_line

        return json_problem_line(problem)
    path, _, reason = problem.partition(": ")
    if path in ("(input)", "(root)"):
        quoted = reason.split("'")
        parts = [quoted[1]] if "unexpected" in reason and len(quoted) > 2 else []
    else:
        parts = [k for k in path.replace("[", ".").replace("]", "").split(".") if k]
    keys = _object_keys(text)
    depth, position, found = 1, 0, None
    for part in parts:
        if part.isdigit():  # an array index: one level deeper, any element
            depth += 1
            continue
        match = next((at for d, key, at in keys if d == depth and key == part and at >= position),
                     None)
        if match is None:
            break
        depth, position, found = depth + 1, match, match
    return None if found is None else text.count("\n", 0, found) + 1


def _object_keys(text: str) -> list[tuple[int, str, int]]:
    """``(depth, key, offset)`` of every object key in a JSON text (tolerates broken JSON)."""
    keys: list[tuple[int, str, int]] = []
    containers: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in "{[":
            containers.append(char)
        elif char in "}]" and containers:
            containers.pop()
        elif char == '"':
            end = index + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            after = end + 1
            while after < len(text) and text[after] in " \t\r\n":
                after += 1
            if containers and containers[-1] == "{" and text[after : after + 1] == ":":
                keys.append((len(containers), text[index + 1 : end], index))
            index = end
        index += 1
    return keys


class ConsoleRunner:
    """The console's door to ``LocalRuntime``: validate, start, redrive, remember failures."""

    def __init__(
        self, workspace: Workspace, runtime_factory: Callable[[Workspace], Any] | None = None
    ) -> None:
        self.workspace = workspace
        self.runtime_factory = runtime_factory
        self._problems: dict[str, LaunchProblem] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # --- input ----------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        """The execution input with every default filled in (what the form starts from)."""
        return self.validate({})

    def validate(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate and default ``raw`` with the pipeline's input schema."""
        try:
            from statemachines.inputs import validate_input
        except ImportError as exc:
            raise RuntimeUnavailableError(f"statemachines.inputs is not available: {exc}") from exc
        return validate_input(raw)

    # --- actions ---------------------------------------------------------------------------
    def _background(self) -> Any:
        """:mod:`fraudpipe.local.background` (``runtime_factory`` may swap the definition)."""
        try:
            from fraudpipe.local import background
        except ImportError as exc:
            raise RuntimeUnavailableError(f"the local runtime is not available: {exc}") from exc
        return background

    def start(self, execution_input: dict[str, Any]) -> str:
        """Start an execution of ``execution_input``; it runs on while a thread waits for it."""
        run = self._background().start_in_background(
            self.workspace,
            execution_input,
            prefix="console",
            runtime_factory=self.runtime_factory,
            on_failure=self._remember,
        )
        self._keep(run.watcher)
        return run.name

    def redrive(self, name: str) -> None:
        """Redrive the failed execution ``name``; it runs on while a thread waits for it."""
        with self._lock:
            self._problems.pop(name, None)
        run = self._background().redrive_in_background(
            self.workspace, name, runtime_factory=self.runtime_factory, on_failure=self._remember
        )
        self._keep(run.watcher)

    def _remember(self, action: str, name: str, exc: BaseException) -> None:
        """A failure after the start, shown on the execution page instead of lost in a thread."""
        logger.warning("console %s of %s failed: %s", action, name, type(exc).__name__)
        with self._lock:
            self._problems[name] = LaunchProblem(action, type(exc).__name__, str(exc))

    def _keep(self, thread: threading.Thread | None) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            if thread is not None:
                self._threads.append(thread)

    # --- what the pages show ---------------------------------------------------------------
    def problem(self, name: str) -> LaunchProblem | None:
        with self._lock:
            return self._problems.get(name)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the threads started so far (used on shutdown and in tests)."""
        for thread in list(self._threads):
            thread.join(timeout)
