"""The embedded default: the whole platform in one process with no servers installed.

SQLite under the data directory, the in-process bus, an embedded MQTT broker on its own port
(never 1883, which a real Mosquitto may hold) and the demo hospital, loaded on first start.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

import uvicorn

from api.app import create_app
from core.settings import Settings
from devices.broker.embedded import EmbeddedBroker
from ownat import migrate
from ownat.demo import demo_accounts_text, seed_demo_data

log = logging.getLogger(__name__)


async def run_embedded(settings: Settings, *, host: str, port: int) -> None:
    """Migrates, seeds on first start, starts the broker and serves until interrupted."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade_async(settings.effective_database_url)
    await seed_demo_data(settings)
    async with AsyncExitStack() as stack:
        if settings.mqtt_url is None:
            broker = EmbeddedBroker(host=settings.embedded_mqtt_host, port=settings.embedded_mqtt_port)
            await stack.enter_async_context(broker)
        config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None, access_log=False)
        server = uvicorn.Server(config)
        banner = asyncio.create_task(_announce_when_started(server, settings, host, port))
        try:
            await server.serve()
        finally:
            banner.cancel()


async def _announce_when_started(server: uvicorn.Server, settings: Settings, host: str, port: int) -> None:
    # uvicorn offers a flag, not an event, for "listening"; a short poll is the only way to see it.
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    mqtt = settings.mqtt_url or f"mqtt://{settings.embedded_mqtt_host}:{settings.embedded_mqtt_port}"
    print(
        f"\nOwnat is running (embedded mode, data in {settings.data_dir.resolve()})\n"
        f"  web and API:  http://{shown_host}:{port}/\n"
        f"  API docs:     http://{shown_host}:{port}/api/v1/docs\n"
        f"  MQTT broker:  {mqtt}\n\n" + demo_accounts_text(),
        flush=True,
    )
