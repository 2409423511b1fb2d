"""Starlette's WebSocket as the `Transport` our socket servers read and write.

One adapter for every socket: the live hub (`/ws`), consult signalling (`/ws/consult`) and the FHIR
subscriptions channel. Their servers speak text frames only and see the client leave as `None` on
reading, or as a `ConnectionError` on writing, never as a Starlette exception. `serve_websocket` is
the endpoint of each: accept, then hand the socket to its server, or close it while none runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import WebSocket, WebSocketDisconnect

from realtime.socket_wire import CLOSE_GOING_AWAY, Transport

Server = TypeVar("Server")


class StarletteTransport:
    """Adapts an accepted Starlette WebSocket to `realtime.socket_wire.Transport`."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def send_text(self, text: str) -> None:
        try:
            await self._websocket.send_text(text)
        except WebSocketDisconnect:
            # The client went away: an ordinary end of the connection, not a server error.
            raise ConnectionResetError("the client disconnected") from None

    async def receive_text(self) -> str | None:
        """The next text frame; None once the client has left."""
        try:
            message = await self._websocket.receive()
        except WebSocketDisconnect:
            return None
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is not None:
            return str(message["text"])
        # Binary frames are not part of any of the protocols; decoded so that the parser refuses them politely.
        return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")

    async def close(self, code: int, reason: str = "") -> None:
        await self._websocket.close(code=code, reason=reason)


async def serve_websocket(
    websocket: WebSocket,
    server: Server | None,
    serve: Callable[[Server, Transport], Awaitable[None]],
    *,
    not_running: str,
) -> None:
    """Accepts the socket and serves it with `server`; closes it (1001, `not_running`) when there is none."""
    await websocket.accept()
    if server is None:
        await websocket.close(code=CLOSE_GOING_AWAY, reason=not_running)
        return
    await serve(server, StarletteTransport(websocket))
