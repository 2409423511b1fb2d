"""An in-process signalling socket: a server peer talks to the consult server like any browser.

The server side is a `Transport` handed to `serve_connection`; the client side sends and receives the
protocol's JSON messages. Nothing leaves the process, so the recorder needs no URL of its own server.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

_CLOSED = None


class LoopbackSocket:
    """Both ends of one socket: `transport` for the server, `send`/`receive` for the server peer."""

    def __init__(self) -> None:
        self._to_server: asyncio.Queue[str | None] = asyncio.Queue()
        self._to_client: asyncio.Queue[str | None] = asyncio.Queue()
        self.close_code: int | None = None
        self.transport = _ServerEnd(self)

    async def send(self, message: dict[str, Any]) -> None:
        """Sends a client message to the server."""
        await self._to_server.put(json.dumps(message, default=str))

    async def receive(self) -> dict[str, Any] | None:
        """The next server message; None once the server closed the socket."""
        text = await self._to_client.get()
        return None if text is _CLOSED else json.loads(text)

    async def close(self) -> None:
        """Closes the client end: the server reads the end of the stream."""
        await self._to_server.put(_CLOSED)


class _ServerEnd:
    def __init__(self, socket: LoopbackSocket) -> None:
        self._socket = socket

    async def send_text(self, text: str) -> None:
        await self._socket._to_client.put(text)

    async def receive_text(self) -> str | None:
        return await self._socket._to_server.get()

    async def close(self, code: int, reason: str = "") -> None:
        self._socket.close_code = code
        await self._socket._to_client.put(_CLOSED)
