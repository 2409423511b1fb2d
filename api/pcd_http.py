"""PCD-01 device observations posted to the HL7 endpoint: the receiver this API instance hands them to.

With `OWNAT_PCD_HTTP` on, the instance runs an ingest worker without MQTT (`devices.pcd.pipeline`)
and the live alarm evaluator after its commits, as `ownat mllp` does; off, the endpoint answers 503
for PCD-01 and names the MLLP listener. `ownat dev` sets the receiver of its own ingest worker.
"""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack

from fastapi import FastAPI

from core.settings import Settings
from devices.pcd import running_receiver
from realtime.alarms import live_evaluator_factory


async def start_pcd_http(app: FastAPI, settings: Settings) -> AsyncExitStack:
    """Starts the receiver when enabled (app.state.pcd_receiver); closing the stack stops it."""
    stack = AsyncExitStack()
    app.state.pcd_receiver = None
    if settings.pcd_http:
        resources = app.state.resources
        app.state.pcd_receiver = await stack.enter_async_context(
            running_receiver(
                database_url=settings.effective_database_url,
                engine=resources.engine,
                sessions=resources.sessions,
                bus=resources.bus,
                client_id=f"ownat-api-pcd-{socket.gethostname()}",
                observer=live_evaluator_factory(settings)(resources.sessions, resources.bus),
            )
        )
    return stack
