"""Test helpers of the foreign-protocol adapters (SDC, Bluetooth): the whole path to the dashboard.

An ingest worker on the machine's Mosquitto and this run's PostgreSQL, the edge gateway with the
adapter under test (end-to-end acknowledgement on), and a subscription to the live bus the
dashboard reads: what a device measured is on the screen and in the database at the end of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.bus import BusMessage, InProcessBus
from edge.adapters import DeviceAdapter
from edge.gateway import EdgeGateway
from tests.devices.edge_helpers import edge_gateway
from tests.devices.ingest_helpers import GUARD_S, running_worker, worker_config


@dataclass
class Dashboard:
    """What the live bus delivered, by channel, as the dashboard's web socket would pass it on."""

    received: list[BusMessage] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, channel: str) -> list[dict[str, Any]]:
        return [m.data for m in self.received if m.channel == channel]

    def readings(self, device_id: str) -> list[tuple[str, float]]:
        return [
            (r["metric"], r["value"]) for m in self.on(f"vitals.device.{device_id}") for r in m["readings"]
        ]

    async def wait_for(self, check: Any, *, what: str) -> None:
        try:
            async with asyncio.timeout(GUARD_S):
                while not check():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"gave up waiting for {what}; got {self.received}") from None


@asynccontextmanager
async def through_the_platform(
    settings: Any, mqtt_url: str, tmp_path: Path, adapter: DeviceAdapter, device_id: str
) -> AsyncIterator[tuple[EdgeGateway, Dashboard]]:
    """The adapter in an edge gateway, the platform's ingest behind the broker, the dashboard's bus."""
    bus = InProcessBus()
    dashboard = Dashboard()
    url = urlsplit(mqtt_url)
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url), bus=bus),
        bus.subscribe(patterns=[f"vitals.device.{device_id}", f"devices.*.{device_id}"]) as live,
    ):

        async def watch() -> None:
            async for message in live:
                dashboard.received.append(message)
                dashboard.changed.set()

        watcher = asyncio.create_task(watch())
        try:
            async with edge_gateway(
                url.hostname or "127.0.0.1", url.port or 1883, tmp_path / "q.db", adapter
            ) as gw:
                yield gw, dashboard
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
