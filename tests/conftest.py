"""Fixtures shared by every test tier."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fraudpipe.workspace import Workspace, get_workspace

EVENTS_DIR = Path(__file__).parent / "events"
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


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


def wait_until(probe: Any, done: Any, timeout: float = 90, interval: float = 0.05) -> Any:
    """Call ``probe`` until ``done(value)`` or ``timeout`` seconds pass; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def load_event(name: str) -> dict:
    """A canonical event from ``tests/events/<name>.json``."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())

#: The task and choice states every complete execution visits, in order, up to the review choice.
PIPELINE_PATH = [
    "StartCrawler", "GetCrawlerStatus", "StartEtl", "GetEtlStatus", "CreateModelVersion",
    "GetTrainingStatus", "QualityGate", "DeployDetectorVersion", "StartBatchPrediction",
    "GetBatchStatus", "ReviewNeeded?",
]  # fmt: skip


def pipeline_path(review: bool) -> list[str]:
    """The states of a succeeded execution in order (poll loops counted once), with or without
    the review branch (StartHumanReview without waiting)."""
    tail = ["StartHumanReview", "CollectVerdicts"] if review else []
    return [*PIPELINE_PATH, *tail, "PipelineSucceeded"]


def visited_once(visited: list[str], expected: list[str]) -> list[str]:
    """``visited`` (state names, loops repeating some) reduced to first visits of ``expected``'s
    states, to compare with ``expected``."""
    return [name for name in dict.fromkeys(visited) if name in expected]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(app: Any, timeout: float = 10) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL.

    The server is stopped and its thread joined when the block ends, so no test leaves it
    running for the next one.
    """
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="test-live-server")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright, for one test.

    Not shared across tests on purpose: between its calls Playwright's sync API keeps its asyncio
    loop marked as running on the main thread, so a session outliving the test would make any
    later ``sync_playwright()`` (or ``asyncio.run``) in that worker refuse to start.
    """
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (`make browser` installs it)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def _settings_env() -> dict[str, str]:
    """The environment variables that select backends, roots and clocks."""
    prefixes = ("FRAUDPIPE_", "AWS_", "POWERTOOLS_")
    return {k: v for k, v in os.environ.items() if k.startswith(prefixes)}


def leaked_state(
    threads_before: set[int], env_before: dict[str, str] | None = None, grace: float = 5.0
) -> list[str]:
    """What a test left behind that changes how later tests in the same process behave.

    Why: under ``pytest -n 2`` one worker runs tests of every folder in turn. A moto mock left
    active makes the next ``mock_aws()`` share (and not reset) its backends; a running asyncio
    loop left on the main thread (a Playwright session that outlives its test) makes the next
    ``sync_playwright()`` refuse to start; a thread left polling keeps calling AWS clients; a
    ``FRAUDPIPE_*`` / ``AWS_*`` variable set without ``monkeypatch`` changes every later test.
    Threads counted: non-daemon ones (they would also keep the interpreter alive) and
    fraudpipe's own pollers (``fraudpipe-*``); idle pool threads of a server are not. They get
    ``grace`` seconds to finish (a watcher sees its execution end, a server stops).
    """
    problems = []
    deadline = time.monotonic() + grace
    while True:
        stray = [
            t
            for t in threading.enumerate()
            if t.ident not in threads_before
            and t.is_alive()
            and (not t.daemon or t.name.startswith("fraudpipe-"))
        ]
        if not stray or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if stray:
        problems.append("threads still running: " + ", ".join(sorted(t.name for t in stray)))
    moto_models = sys.modules.get("moto.core.models")
    if moto_models is not None and moto_models.MockAWS._nested_count:
        problems.append(f"{moto_models.MockAWS._nested_count} moto mock(s) still active")
    runtime = sys.modules.get("fraudpipe.local.runtime")
    if runtime is not None and runtime._MotoSession.users:
        problems.append(f"{runtime._MotoSession.users} LocalRuntime(s) not closed")
    if asyncio._get_running_loop() is not None:
        problems.append("an asyncio loop is still marked running on the main thread")
    if env_before is not None:
        after = _settings_env()
        changed = sorted(k for k in env_before.keys() | after.keys()
                         if env_before.get(k) != after.get(k))  # fmt: skip
        if changed:
            problems.append("environment variables changed: " + ", ".join(changed))
    return problems


@pytest.fixture(autouse=True)
def _no_leaked_state() -> Iterator[None]:
    """Fail a test at teardown when it leaves process-wide state behind (see leaked_state)."""
    before, env = {t.ident for t in threading.enumerate()}, _settings_env()
    yield
    problems = leaked_state(before, env)
    if problems:
        pytest.fail("test left state behind for later tests: " + "; ".join(problems))
