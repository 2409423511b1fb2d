"""End-to-end acknowledgement: a sender lets a message go only once the platform has committed it.

Real components throughout: a private Mosquitto (persistence on) or the embedded broker, the edge
gateway and ingest workers on this event loop, this run's PostgreSQL. The fault tests with separate
processes are in test_ingest_faults.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from devices.broker.embedded import EmbeddedBroker
from devices.ingest.models import IngestDeadLetter
from devices.protocol import AckMessage, ack_topic, decode_ack
from edge.adapters import PushAdapter
from tests.devices.edge_helpers import edge_gateway, vitals
from tests.devices.ingest_helpers import (
    GUARD_S,
    METRICS,
    count_readings,
    duplicate_keys,
    iso,
    recent_start,
    register_devices,
    running_worker,
    unique_device_id,
    unique_name,
    vitals_payload,
    worker_config,
)
from tests.devices.private_mosquitto import free_port, private_mosquitto
from tests.edge.broker_configs import persistent_config


async def test_the_edge_lets_a_message_go_only_once_the_platform_has_committed_it(
    settings, sessions, tmp_path: Path
) -> None:
    devices = [unique_device_id("e2e") for _ in range(3)]
    await register_devices(sessions, devices)
    start = recent_start()
    messages = [
        (device, vitals(seq, start + timedelta(seconds=seq))) for seq in range(20) for device in devices
    ]
    expected = len(messages) * len(METRICS)
    producer = PushAdapter()
    with private_mosquitto(persistent_config) as broker:
        async with edge_gateway(broker.host, broker.port, tmp_path / "queue.db", producer) as gateway:
            counters = gateway.counters
            for device, message in messages:
                producer.push(device, message)
            # No ingest worker yet: the broker takes every message (PUBACK), nobody commits them.
            async with asyncio.timeout(GUARD_S):
                await counters.wait_until(lambda c: c.acked >= len(messages))
            assert (counters.pending, counters.confirmed) == (len(messages), 0)
            async with running_worker(worker_config(settings.database_url, broker.url)):
                async with asyncio.timeout(GUARD_S):
                    await counters.wait_until(lambda c: c.pending == 0)
            # The broker had no subscriber for the first copies: only the edge's re-sends got through.
            assert counters.resent >= len(messages)
            assert counters.confirmed == len(messages)
    assert await count_readings(sessions, devices) == expected
    assert await duplicate_keys(sessions, devices) == 0


class AckListener:
    """A device's own MQTT client (no edge): publishes at QoS 1 and collects its acknowledgements."""

    def __init__(self, host: str, port: int, device_id: str, *, protocol: int = mqtt.MQTTv311) -> None:
        self.device_id = device_id
        self.acks: list[AckMessage] = []
        self.retained: list[bool] = []
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=unique_name("device"), protocol=protocol
        )
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_: self._loop.call_soon_threadsafe(self._subscribed.set)
        self._host, self._port = host, port

    async def __aenter__(self) -> AckListener:
        await asyncio.to_thread(self._client.connect, self._host, self._port, 30)
        self._client.loop_start()
        self._client.subscribe(ack_topic(self.device_id), qos=1)
        async with asyncio.timeout(GUARD_S):
            await self._subscribed.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def publish(self, kind: str, payload: bytes) -> None:
        self._client.publish(f"ownat/v1/devices/{self.device_id}/{kind}", payload, qos=1)

    def covered(self) -> set[int]:
        return {seq for ack in self.acks for first, last in ack.seqs for seq in range(first, last + 1)}

    async def wait_for(self, seqs: Sequence[int]) -> None:
        async with asyncio.timeout(GUARD_S):
            while not set(seqs) <= self.covered():
                self._changed.clear()
                await self._changed.wait()

    def _on_message(self, _client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        ack = decode_ack(bytes(message.payload))
        self._loop.call_soon_threadsafe(self._record, ack, bool(message.retain))

    def _record(self, ack: AckMessage, retained: bool) -> None:
        self.acks.append(ack)
        self.retained.append(retained)
        self._changed.set()


@asynccontextmanager
async def broker_of_kind(kind: str) -> AsyncIterator[tuple[str, int, str]]:
    """(host, port, worker protocol) of a private Mosquitto or of the embedded broker of `ownat dev`."""
    if kind == "mosquitto":
        with private_mosquitto() as broker:
            yield broker.host, broker.port, "5"
    else:
        async with EmbeddedBroker("127.0.0.1", free_port()) as embedded:
            yield embedded.host, embedded.port, "3.1.1"


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_a_device_without_the_edge_reads_which_messages_are_committed(
    settings, sessions, kind: str
) -> None:
    device = unique_device_id("ack")
    await register_devices(sessions, [device])
    start = recent_start()
    too_old = datetime(1970, 1, 1, tzinfo=UTC)
    async with broker_of_kind(kind) as (host, port, protocol):
        config = worker_config(settings.database_url, f"mqtt://{host}:{port}", mqtt_protocol=protocol)
        async with running_worker(config), AckListener(host, port, device) as listener:
            for seq in (1, 2, 3):
                listener.publish("vitals", vitals_payload(seq, start + timedelta(seconds=seq)))
            listener.publish("vitals", vitals_payload(4, too_old))  # dead-lettered: committed as well
            status = {"v": 1, "seq": 5, "online": True, "time": iso(start), "battery_pct": 80}
            listener.publish("status", json.dumps(status).encode())
            listener.publish("vitals", b'{"v": 1, "readings": "no seq, no acknowledgement"}')
            await listener.wait_for([1, 2, 3, 4, 5])
            assert all(ack.seq == max(last for _first, last in ack.seqs) for ack in listener.acks)
        # The last acknowledgement is retained: a device that reconnects learns it at once.
        async with AckListener(host, port, device) as late:
            await late.wait_for([listener.acks[-1].seq])
            assert late.retained[0] and late.acks[0] == listener.acks[-1]
    assert await count_readings(sessions, [device]) == 3 * len(METRICS)
    async with sessions() as session:
        codes = set(
            await session.scalars(
                select(IngestDeadLetter.reason_code).where(IngestDeadLetter.device_id == device)
            )
        )
    assert codes == {"too-old", "invalid"}
