"""uvicorn's httptools protocol with each response sent in one ``send`` (head and body together).

Why: uvicorn writes a response's head and its body in two ``transport.write`` calls. With
``TCP_NODELAY`` (set on every accepted connection) each write is a ``send`` syscall and a
segment of its own, so the server paid two sends and two loopback deliveries per request and
the client woke up twice, the first time for a head without its body. Here the protocol's
transport is wrapped: a write is held back until the next write of the same connection, which
joins it (for a response: the body joins the head), or until the event loop's next turn,
whichever comes first (a head without a body, a last chunk), so nothing waits longer than one
turn. The bytes on the wire are the same, in the same order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["JoinedWrites", "OneSendHttpProtocol"]


class JoinedWrites:
    """A transport whose writes reach ``transport`` in pairs: a write waits for the next one
    (sent together, at once) or for the loop's next turn (sent alone)."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._held = None
            self._transport.write(held + bytes(data))

    def flush(self) -> None:
        """Send what is held back (nothing if its pair already took it)."""
        held, self._held = self._held, None
        if held is not None:
            self._transport.write(held)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # everything else is the real transport's
        return getattr(self._transport, name)


class OneSendHttpProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` over :class:`JoinedWrites` (``uvicorn.Config(http=...)``)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport, self.loop))  # type: ignore[arg-type]
