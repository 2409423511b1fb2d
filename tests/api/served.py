"""An app served by a real uvicorn configured exactly as `ownat api` configures it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from api.app import create_app
from core.settings import Settings
from ownat.uvicorn_config import uvicorn_config


@contextlib.asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """The app of `settings` served by uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app = create_app(settings)
    compression = settings.websocket_compression
    server = uvicorn.Server(
        uvicorn_config(app, host="127.0.0.1", port=port, websocket_compression=compression)
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
