"""The suite's leak check (tests/conftest.py) sees each kind of state a test can leave behind."""

from __future__ import annotations

import asyncio
import os
import threading

from moto import mock_aws

from tests.conftest import _settings_env, leaked_state


def _snapshot() -> tuple[set[int], dict[str, str]]:
    return {t.ident for t in threading.enumerate()}, _settings_env()


def test_nothing_left_means_no_problems():
    assert leaked_state(*_snapshot(), grace=0) == []


def test_an_active_moto_mock_is_reported():
    before = _snapshot()
    mock = mock_aws()
    mock.start()
    try:
        assert any("moto mock" in p for p in leaked_state(*before, grace=0))
    finally:
        mock.stop()


def test_a_running_fraudpipe_thread_is_reported_and_a_finishing_one_is_waited_for():
    before = _snapshot()
    stop = threading.Event()
    poller = threading.Thread(target=stop.wait, name="fraudpipe-resumer", daemon=True)
    poller.start()
    try:
        assert leaked_state(*before, grace=0.1) == ["threads still running: fraudpipe-resumer"]
        threading.Timer(0.2, stop.set).start()
        assert leaked_state(*before, grace=5) == []  # it ended within the grace period
    finally:
        stop.set()
        poller.join()


def test_a_loop_marked_running_on_the_main_thread_is_reported():
    before = _snapshot()
    loop = asyncio.new_event_loop()
    asyncio._set_running_loop(loop)  # what a Playwright session left open does between calls
    try:
        assert leaked_state(*before, grace=0) == [
            "an asyncio loop is still marked running on the main thread"
        ]
    finally:
        asyncio._set_running_loop(None)
        loop.close()


def test_a_setting_changed_without_monkeypatch_is_reported():
    before = _snapshot()
    os.environ["FRAUDPIPE_LEAK_CHECK_PROBE"] = "1"
    try:
        assert leaked_state(*before, grace=0) == [
            "environment variables changed: FRAUDPIPE_LEAK_CHECK_PROBE"
        ]
    finally:
        del os.environ["FRAUDPIPE_LEAK_CHECK_PROBE"]
