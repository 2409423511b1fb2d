"""The WebSocket endpoint `/ws` and the lifespan hooks that start and stop the hub.

Mount with `app.include_router(ws.router)` (public: the socket authenticates with its first
message) and call `start_hub(app)` after the resources are open, `stop_hub(app)` before they close.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

from core.resources import Resources
from realtime.hub import Hub, HubTuning, serve_connection
from realtime.hub.messages import CLOSE_GOING_AWAY

router = APIRouter()


class _StarletteTransport:
    """Adapts Starlette's WebSocket to the hub's Transport."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def send_text(self, text: str) -> None:
        await self._websocket.send_text(text)

    async def receive_text(self) -> str | None:
        try:
            message = await self._websocket.receive()
        except WebSocketDisconnect:
            return None
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is not None:
            return str(message["text"])
        # A binary frame is not part of the protocol; decoded so the parser can refuse it politely.
        return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")

    async def close(self, code: int, reason: str = "") -> None:
        await self._websocket.close(code=code, reason=reason)


@router.websocket("/ws")
async def websocket_hub(websocket: WebSocket) -> None:
    """Live vitals and alarms: authenticate with `{"type":"auth","token":...}`, then subscribe."""
    hub: Hub | None = getattr(websocket.app.state, "hub", None)
    await websocket.accept()
    if hub is None:
        await websocket.close(code=CLOSE_GOING_AWAY, reason="the hub is not running")
        return
    await serve_connection(hub, _StarletteTransport(websocket))


async def start_hub(app: FastAPI, *, tuning: HubTuning | None = None) -> Hub:
    """Starts the app's hub on its resources (call after the lifespan has opened them)."""
    resources: Resources = app.state.resources
    hub = Hub(
        bus=resources.bus,
        sessions=resources.sessions,
        settings=resources.settings,
        revocations=resources.revocations,
        tuning=tuning,
    )
    await hub.start()
    app.state.hub = hub
    return hub


async def stop_hub(app: FastAPI) -> None:
    """Stops the app's hub, if it was started."""
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub is not None:
        await hub.stop()
        app.state.hub = None
