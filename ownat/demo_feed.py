"""Live data for the embedded mode: the demo hospital's monitors, simulated, publishing over MQTT.

The readings travel the whole pipeline as real devices' would: broker, ingest worker, database,
bus, API and dashboards.
"""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from core.db import utc_now
from devices.protocol import encode, topic_for
from devices.simulator import SimulatedDevice, paced, simulate


class DemoFeed:
    """Publishes the simulated devices' readings in real time over MQTT 3.1.1 (the embedded broker's)."""

    def __init__(self, broker_url: str, devices: list[SimulatedDevice]) -> None:
        parts = urlsplit(broker_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 1883
        self._devices = devices
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"ownat-demo-feed-{uuid.uuid4().hex[:8]}"
        )

    async def run(self) -> None:
        """Publishes until cancelled; paho's own thread does the network work and reconnects."""
        self._client.connect_async(self._host, self._port, 30)
        self._client.loop_start()
        try:
            async for device_id, message in paced(simulate(self._devices, start=utc_now())):
                # publish() only queues the packet for paho's thread; it does not block the loop.
                self._client.publish(topic_for(device_id, "vitals"), encode(message), qos=1)
        finally:
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
