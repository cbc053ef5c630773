"""Start and redrive executions from the console, in background threads of the server process.

Why threads: a pipeline execution lasts from seconds to hours, an HTTP request must not. The
request validates the input (so errors are shown next to the field) and starts the execution,
which runs in the runtime's own threads; a watcher thread keeps that runtime open until the
execution ends and keeps any failure so the execution page can show it.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fraudpipe.errors import FraudpipeError, InputValidationError
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
    """Parse the form's JSON; a syntax error names its line and column."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputValidationError(
            [f"(JSON) line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from exc
    if not isinstance(value, dict):
        raise InputValidationError([f"(root): must be a JSON object, not {type(value).__name__}"])
    return value


def locate_problem(text: str, problem: str) -> int | None:
    """The line of ``text`` a ``path: reason`` problem is about (1-based), if it can be found.

    Follows the path's keys through the JSON text at their nesting depth, so ``mode`` is the
    top-level key and ``batch.mode`` the one inside ``batch``; a JSON syntax problem already
    names its line.
    """
    if problem.startswith("(JSON) line "):
        number = problem.removeprefix("(JSON) line ").split(",", 1)[0]
        return int(number) if number.isdigit() else None
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
    def _runtime(self) -> Any:
        """A runtime for one action (``runtime_factory`` swaps the definition, e.g. in demos)."""
        if self.runtime_factory is not None:
            return self.runtime_factory(self.workspace)
        try:
            from fraudpipe.local.runtime import LocalRuntime

            return LocalRuntime(self.workspace)
        except ImportError as exc:
            raise RuntimeUnavailableError(f"the local runtime is not available: {exc}") from exc

    def start(self, execution_input: dict[str, Any]) -> str:
        """Start an execution of ``execution_input``; it runs on while a thread waits for it."""
        runtime = self._runtime()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"console-{stamp}-{secrets.token_hex(3)}"
        try:
            runtime.start_execution(execution_input, name=name)
        except BaseException:
            runtime.close()
            raise
        self._spawn("start", name, runtime)
        return name

    def redrive(self, name: str) -> None:
        """Redrive the failed execution ``name``; it runs on while a thread waits for it."""
        runtime = self._runtime()
        with self._lock:
            self._problems.pop(name, None)
        try:
            runtime.redrive(name)
        except BaseException:
            runtime.close()
            raise
        self._spawn("redrive", name, runtime)

    def _spawn(self, action: str, name: str, runtime: Any) -> None:
        """Keep the runtime (and its moto session) open until the execution ends."""

        def watch() -> None:
            try:
                runtime.wait(name)
            except Exception as exc:  # shown on the execution page instead of lost in a thread
                logger.warning("console %s of %s failed: %s", action, name, type(exc).__name__)
                with self._lock:
                    self._problems[name] = LaunchProblem(action, type(exc).__name__, str(exc))
            finally:
                runtime.close()

        thread = threading.Thread(
            target=watch, name=f"fraudpipe-console-{action}-{name}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    # --- what the pages show ---------------------------------------------------------------
    def problem(self, name: str) -> LaunchProblem | None:
        with self._lock:
            return self._problems.get(name)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the threads started so far (used on shutdown and in tests)."""
        for thread in list(self._threads):
            thread.join(timeout)
