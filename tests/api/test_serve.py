"""`fraudpipe serve` as a real process: generates a key on first start, prints where it is,
and answers on loopback (keys persisting across starts: test_contract)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from fraudpipe.api.keys import load_api_keys
from fraudpipe.review.resume import review_url
from tests.api.seed import SEED_QUERY
from tests.conftest import free_port


def _serve(workspace, port: int, workers: int = 1) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "FRAUDPIPE_HOME": str(workspace.root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fraudpipe.cli", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    banner = "".join(proc.stdout.readline() for _ in range(5))
    deadline = time.monotonic() + 90  # two workers import the app on a shared, busy machine
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc, banner
        except httpx.HTTPError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)
    raise AssertionError(f"serve did not answer: {banner}")


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_generates_a_key_and_prints_where_it_is(workspace, workers):
    port = free_port()
    proc, banner = _serve(workspace, port, workers)
    try:
        [key] = load_api_keys(workspace)
        assert str(workspace.config_file) in banner and key not in banner
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/predict", params=SEED_QUERY).status_code == 401
        answer = httpx.get(f"{url}/predict", params=SEED_QUERY, headers={"x-api-key": key})
        assert answer.status_code == 503  # an empty workspace has no detector yet
        assert review_url(workspace) == f"{url}/review"
        with httpx.Client(base_url=url) as client:  # several requests on one keep-alive
            for _ in range(5):
                assert client.get("/predict", params={"amt": "x"}).status_code == 401
    finally:
        _stop(proc)
    assert proc.returncode is not None
