"""The WebSocket endpoint `/ws` and the lifespan hooks that start and stop the hub.

Mount with `app.include_router(ws.router)` (public: the socket authenticates with its first
message) and call `start_hub(app)` after the resources are open, `stop_hub(app)` before they close.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, WebSocket

from api.websocket_transport import serve_websocket
from core.resources import Resources
from realtime.hub import Hub, HubTuning, serve_connection

router = APIRouter()


@router.websocket("/ws")
async def websocket_hub(websocket: WebSocket) -> None:
    """Live vitals and alarms: authenticate with `{"type":"auth","token":...}`, then subscribe."""
    hub: Hub | None = getattr(websocket.app.state, "hub", None)
    await serve_websocket(websocket, hub, serve_connection, not_running="the hub is not running")


async def start_hub(app: FastAPI, *, tuning: HubTuning | None = None) -> Hub:
    """Starts the app's hub on its resources (call after the lifespan has opened them)."""
    resources: Resources = app.state.resources
    hub = Hub(
        bus=resources.bus,
        sessions=resources.sessions,
        settings=resources.settings,
        revocations=resources.revocations,
        tuning=tuning,
        metrics=app.state.hub_metrics,
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
