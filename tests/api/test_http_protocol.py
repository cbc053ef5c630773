"""The serving protocol sends a response's head and body together, and loses no byte."""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvicorn

from fraudpipe.api.http import JoinedWrites, OneSendHttpProtocol
from tests.conftest import free_port


def _pending(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b""


def test_a_write_waits_for_its_pair_or_the_next_turn() -> None:
    async def scenario() -> list[bytes]:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        joined = JoinedWrites(transport, loop)  # type: ignore[arg-type]
        seen = []
        # GIVEN a head written: nothing leaves yet
        joined.write(b"HEAD\r\n\r\n")
        seen.append(_pending(theirs))
        # WHEN the body follows, both leave at once, in order
        joined.write(b"body")
        seen.append(_pending(theirs))
        # AND a write without a pair leaves on the loop's next turn
        joined.write(b"+tail")
        seen.append(_pending(theirs))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        seen.append(_pending(theirs))
        # AND close sends what is held before closing
        joined.write(b"+last")
        joined.close()
        await asyncio.sleep(0.01)
        theirs.setblocking(True)
        data = b""
        while chunk := theirs.recv(65536):
            data += chunk
        seen.append(data)
        theirs.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen[0] == b""
    assert seen[1] == b"HEAD\r\n\r\nbody"
    assert seen[2] == b"HEAD\r\n\r\nbody"
    assert seen[3] == b"HEAD\r\n\r\nbody+tail"
    assert seen[4] == b"HEAD\r\n\r\nbody+tail+last"


async def _app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":  # chunked, several body messages
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"a" * 10, b"b" * 70_000, b"c"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    status = 204 if scope["path"] == "/empty" else 200
    body = b"" if status == 204 else scope["path"].encode() * 3
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def test_a_real_server_answers_whole_responses_on_keep_alive() -> None:
    port = free_port()
    config = uvicorn.Config(_app, port=port, log_level="warning", http=OneSendHttpProtocol,
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)

    async def scenario() -> list[httpx.Response]:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                return [await client.get(path) for path in ("/x", "/stream", "/empty", "/yy")]
        finally:
            server.should_exit = True
            await serving

    plain, stream, empty, other = asyncio.run(scenario())
    assert (plain.status_code, plain.content) == (200, b"/x/x/x")
    assert stream.content == b"a" * 10 + b"b" * 70_000 + b"c"
    assert (empty.status_code, empty.content) == (204, b"")
    assert other.content == b"/yy/yy/yy"
