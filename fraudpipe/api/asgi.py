"""Worker processes of ``fraudpipe serve --workers N``.

Each worker is its own process (``python -m fraudpipe.api.asgi HOST PORT``) with its own
listening socket on the same port (``SO_REUSEPORT``: the kernel spreads connections), so no
socket is handed between processes. Why not uvicorn's own ``workers``: its shared socket is
created without ``IPPROTO_TCP``, so asyncio does not set ``TCP_NODELAY`` on accepted connections
and every response waited ~40 ms for a delayed ACK. Workers share one workspace: the engine's
entity store is SQLite in WAL mode with ``BEGIN IMMEDIATE`` per event, so card histories stay
consistent across workers.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from fastapi import FastAPI

from fraudpipe.workspace import Workspace

__all__ = ["AUTH_ENV", "create", "listening_socket", "run_workers", "serving_app",
           "uvicorn_options", "warm_up"]

AUTH_ENV = "FRAUDPIPE_API_AUTH"
log = logging.getLogger(__name__)


def create() -> Any:
    """The app this worker serves (workspace from ``FRAUDPIPE_HOME``)."""
    return serving_app(require_api_key=os.environ.get(AUTH_ENV, "1") != "0")


def serving_app(workspace: Workspace | None = None, require_api_key: bool = True) -> Any:
    """What a serving process runs (``fraudpipe serve`` and each of its workers): scoring
    limited to this thread's one OpenMP thread (the event loop's), the app warmed up
    (:func:`warm_up`), and the predict routes answered in front of it
    (:func:`~fraudpipe.api.fastpath.front`)."""
    from fraudpipe.api.fastpath import front
    from fraudpipe.api.threads import single_threaded_scoring
    from fraudpipe.server import create_app

    single_threaded_scoring()  # uvicorn runs the event loop, hence scoring, in this thread
    return front(warm_up(create_app(workspace, require_api_key=require_api_key)))


def uvicorn_options() -> dict[str, Any]:
    """uvicorn's settings of every serving process: no access log, and each response sent in
    one write (:class:`~fraudpipe.api.http.OneSendHttpProtocol`)."""
    from fraudpipe.api.http import OneSendHttpProtocol

    return {"log_level": "warning", "access_log": False, "http": OneSendHttpProtocol}


def warm_up(app: FastAPI) -> FastAPI:
    """Prepare a serving process: the predictor built and the ACTIVE detector loaded before
    the port opens, and the objects loaded so far frozen out of the garbage collector's work.
    (No detector TTL: the engine checks the registry's ``detector.json`` stamp on every
    prediction, a few µs, so a newly ACTIVE version is used at once.)

    Why: otherwise the first prediction of each process imports the engine and loads the
    model (seconds on a busy machine) while clients wait. Nothing here is required: without a
    detector (or with any problem) the first request builds what it needs and answers as usual.
    """
    from fraudpipe.api.fastpath import predictor_of

    try:
        predictor = predictor_of(app.state)
        load = getattr(predictor.engine, "load_detector", None)
        if load is not None:
            load(predictor.detector_id)
        serve = getattr(predictor.engine, "serve_realtime", None)
        if serve is not None:  # the card histories' WAL copied off the request path
            serve()
    except Exception as exc:  # a warm-up failure must not stop the server
        log.info("warm-up skipped: %s", exc)
    # Everything loaded so far (framework, engine, model) lives as long as the process: move it
    # out of the cyclic garbage collector's sight. A full collection over it took 0.1-0.3 s
    # (160,000 objects), a stall every queued request would wait for.
    gc.collect()
    gc.freeze()
    return app


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound with SO_REUSEPORT (and IPPROTO_TCP, so connections get NODELAY)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def run_worker(host: str, port: int) -> None:
    import uvicorn

    app = create()  # before binding: the kernel hands connections to a socket once it listens
    config = uvicorn.Config(app, **uvicorn_options())
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def run_workers(host: str, port: int, workers: int, env: dict[str, str]) -> int:
    """Start ``workers`` worker processes and wait; SIGINT/SIGTERM stop them all."""
    children = [
        subprocess.Popen([sys.executable, "-m", "fraudpipe.api.asgi", host, str(port)], env=env)
        for _ in range(workers)
    ]

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return max(child.wait() for child in children)


if __name__ == "__main__":
    run_worker(sys.argv[1], int(sys.argv[2]))
