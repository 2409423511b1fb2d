"""The consult signalling endpoint `/ws/consult` and the lifespan hooks of the consult server.

Mount with `app.include_router(ws_consult.router)` (public: the socket authenticates with its first
message) and call `start_consult(app)` after the resources are open, `stop_consult(app)` before.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, WebSocket

from api.websocket_transport import serve_websocket
from core.resources import Resources
from realtime.consult import ConsultServer, create_room_store, serve_connection

router = APIRouter()


@router.websocket("/ws/consult")
async def consult_signalling(websocket: WebSocket) -> None:
    """Video consultation signalling: authenticate with `{"type":"auth","token":...}`, then `join`."""
    server: ConsultServer | None = getattr(websocket.app.state, "consult", None)
    await serve_websocket(websocket, server, serve_connection, not_running="signalling is not running")


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
