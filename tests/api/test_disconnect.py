"""A request whose client has gone by the time the server reads it is dropped unscored."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from urllib.parse import urlencode

import pytest

from fraudpipe.api.keys import ensure_api_key
from fraudpipe.engine.entities import entity_key
from tests.api.test_serve import _serve, _stop
from tests.api.trained import VARIABLES, test_events
from tests.conftest import free_port

pytestmark = pytest.mark.slow  # a trained workspace and a real `fraudpipe serve`


def _request(event: dict[str, str], key: str) -> bytes:
    query = {name: event[name] for name in VARIABLES}
    query["event_timestamp"] = event["EVENT_TIMESTAMP"]
    return (f"GET /predict?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"x-api-key: {key}\r\n\r\n").encode()


def _recorded(ws, event: dict[str, str]) -> bool:
    with sqlite3.connect(ws.registry_dir / "entity_store.sqlite") as db:
        row = db.execute("SELECT version FROM card_states WHERE key=?",
                         (entity_key(event["cc_num"]),)).fetchone()
    return row is not None


def test_a_request_whose_client_left_while_the_server_was_busy_is_not_scored(trained_ws):
    key = ensure_api_key(trained_ws)
    firsts: dict[str, dict[str, str]] = {}
    for event in test_events(trained_ws):
        firsts.setdefault(event["cc_num"], event)
    warm, gone, kept = list(firsts.values())[:3]  # first events of three different cards
    port = free_port()
    proc, _ = _serve(trained_ws, port)
    try:
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(_request(warm, key))
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        # GIVEN a server too busy to read (stopped: the kernel still accepts connections)
        os.killpg(proc.pid, signal.SIGSTOP)
        try:
            # WHEN one client sends its request and leaves, and another sends and waits
            with socket.create_connection(("127.0.0.1", port)) as leaving:
                leaving.sendall(_request(gone, key))
            waiting = socket.create_connection(("127.0.0.1", port), timeout=30)
            waiting.sendall(_request(kept, key))
            time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        with waiting:
            assert waiting.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        _stop(proc)
    # THEN the waiting client's event is in its card's history and the other one's is not
    assert _recorded(trained_ws, warm) and _recorded(trained_ws, kept)
    assert not _recorded(trained_ws, gone)
