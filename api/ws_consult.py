"""The consult signalling endpoint `/ws/consult` and the lifespan hooks of the consult server.

Mount with `app.include_router(ws_consult.router)` (public: the socket authenticates with its first
message) and call `start_consult(app)` after the resources are open, `stop_consult(app)` before.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

from core.resources import Resources
from realtime.consult.protocol import CLOSE_GOING_AWAY
from realtime.consult.server import ConsultServer
from realtime.consult.signalling import serve_connection
from realtime.consult.state import create_room_store

router = APIRouter()


class _StarletteTransport:
    """Adapts Starlette's WebSocket to the signalling server's Transport."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def send_text(self, text: str) -> None:
        try:
            await self._websocket.send_text(text)
        except WebSocketDisconnect:
            # The client went away: an ordinary end of the connection, not a server error.
            raise ConnectionResetError("the client disconnected") from None

    async def receive_text(self) -> str | None:
        try:
            message = await self._websocket.receive()
        except WebSocketDisconnect:
            return None
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is not None:
            return str(message["text"])
        # Binary frames are not part of the protocol; decoded so that the parser refuses them politely.
        return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")

    async def close(self, code: int, reason: str = "") -> None:
        await self._websocket.close(code=code, reason=reason)


@router.websocket("/ws/consult")
async def consult_signalling(websocket: WebSocket) -> None:
    """Video consultation signalling: authenticate with `{"type":"auth","token":...}`, then `join`."""
    server: ConsultServer | None = getattr(websocket.app.state, "consult", None)
    await websocket.accept()
    if server is None:
        await websocket.close(code=CLOSE_GOING_AWAY, reason="signalling is not running")
        return
    await serve_connection(server, _StarletteTransport(websocket))


async def start_consult(app: FastAPI) -> ConsultServer:
    """Starts the app's consult server on its resources."""
    resources: Resources = app.state.resources
    settings = resources.settings
    server = ConsultServer(
        bus=resources.bus,
        rooms=create_room_store(redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix),
        sessions=resources.sessions,
        settings=settings,
        revocations=resources.revocations,
    )
    await server.start()
    app.state.consult = server
    return server


async def stop_consult(app: FastAPI) -> None:
    """Stops the app's consult server, if it was started."""
    server: ConsultServer | None = getattr(app.state, "consult", None)
    if server is not None:
        await server.stop()
        app.state.consult = None
