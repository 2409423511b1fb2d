"""The gateway against the machine's Mosquitto: order, deletion on PUBACK, MQTT 5, restarts, budget."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.protocol import Reading, VitalsMessage
from devices.simulator import SimulatedDevice
from edge.adapters import DeviceMessage, PushAdapter, SimulatorAdapter
from edge.forwarder import LinkSpec
from edge.gateway import EdgeGateway
from edge.mqtt_settings import BrokerSettings
from edge.queue import MessageQueue
from edge.store import QueueWorker
from tests.devices.private_mosquitto import free_port
from tests.edge.conftest import (
    SIMULATION_START,
    GatewayFactory,
    broker_at,
    expected_stream,
    fast_simulator,
    shared_link,
)
from tests.edge.subscriber import GUARD_S, Subscriber


def vitals(seq: int) -> VitalsMessage:
    reading = Reading(metric="hr", value=60 + seq % 40, unit="/min", time=datetime.now(UTC))
    return VitalsMessage(seq=seq, readings=[reading])


@pytest.fixture
async def subscriber(mqtt_url: str, test_run_id: str) -> AsyncIterator[Subscriber]:
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    listener = Subscriber(
        host,
        int(port),
        "ownat/v1/devices/+/vitals",
        client_id=f"edge-test-{test_run_id}",
        device_prefix=f"{test_run_id}-",
    )
    await listener.start()
    yield listener
    await listener.stop()


def machine_broker(mqtt_url: str, **options: object) -> BrokerSettings:
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    return broker_at(host, int(port), **options)


def by_device(received: Iterable[tuple[str, VitalsMessage]]) -> dict[str, list[int]]:
    """Each device's seqs in arrival order."""
    return seqs_by_device((device_id, message.seq) for device_id, message in received)


def seqs_by_device(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    seqs: dict[str, list[int]] = defaultdict(list)
    for device_id, seq in pairs:
        seqs[device_id].append(seq)
    return dict(seqs)


@pytest.mark.parametrize("mqtt_version", ["3.1.1", "5"])
async def test_readings_arrive_in_order_and_leave_the_queue_on_puback(
    mqtt_url: str, test_run_id: str, subscriber: Subscriber, make_gateway: GatewayFactory, mqtt_version: str
) -> None:
    devices = [SimulatedDevice(f"{test_run_id}-order{mqtt_version[0]}-{n}") for n in range(3)]
    expected = expected_stream(devices, 60)
    gateway = make_gateway(
        machine_broker(mqtt_url, mqtt_version=mqtt_version, inflight=4),
        [shared_link(f"edge-{test_run_id}-order{mqtt_version[0]}")],
        [fast_simulator(devices, 60)],
    )

    async with gateway:
        async with asyncio.timeout(GUARD_S):
            await gateway.adapters_done.wait()
            await gateway.counters.wait_until(lambda c: c.pending == 0 and c.queued == len(expected))
        ids = {d.device_id for d in devices}
        await subscriber.wait_until(lambda got: sum(1 for d, _ in got if d in ids) >= len(expected))

    received = [(d, m) for d, m in subscriber.snapshot() if d in ids]
    assert by_device(received) == seqs_by_device(expected)
    assert gateway.counters.acked == gateway.counters.sent == len(expected)
    assert gateway.counters.pending == 0


async def test_one_connection_per_device_when_devices_have_credentials(
    mqtt_url: str, test_run_id: str, subscriber: Subscriber, make_gateway: GatewayFactory
) -> None:
    devices = [SimulatedDevice(f"{test_run_id}-own-{n}") for n in range(3)]
    links = [
        LinkSpec(
            name=d.device_id,
            client_id=d.device_id,
            username=d.device_id,
            password="x",
            devices=frozenset({d.device_id}),
        )
        for d in devices
    ]
    expected = expected_stream(devices, 20)
    gateway = make_gateway(machine_broker(mqtt_url), links, [fast_simulator(devices, 20)])

    async with gateway:
        async with asyncio.timeout(GUARD_S):
            await gateway.counters.wait_until(lambda c: c.links_connected == 3)
            await gateway.adapters_done.wait()
            await gateway.counters.wait_until(lambda c: c.pending == 0 and c.queued == len(expected))
        ids = {d.device_id for d in devices}
        await subscriber.wait_until(lambda got: sum(1 for d, _ in got if d in ids) >= len(expected))

    assert {link.spec.name for link in gateway.links} == ids
    assert by_device((d, m) for d, m in subscriber.snapshot() if d in ids) == seqs_by_device(expected)


async def test_messages_queued_while_the_broker_is_unreachable_are_sent_after_a_restart(
    mqtt_url: str, test_run_id: str, subscriber: Subscriber, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    device = f"{test_run_id}-restart"
    path = tmp_path / "restart.db"
    push = PushAdapter()
    first_queue = await QueueWorker.open(path)
    nowhere = broker_at("127.0.0.1", free_port())
    offline = EdgeGateway(queue=first_queue, broker=nowhere, links=[shared_link("offline")], adapters=[push])
    with caplog.at_level(logging.WARNING, logger="edge.forwarder"):
        async with offline:
            for seq in range(5):
                push.push(device, vitals(seq))
            async with asyncio.timeout(GUARD_S):
                await offline.counters.wait_until(lambda c: c.queued == 5 and c.connect_failures >= 1)
    await first_queue.close()
    assert offline.counters.sent == 0
    assert any("cannot reach" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)

    second_queue = await QueueWorker.open(path)
    simulator = SimulatorAdapter(
        [SimulatedDevice(device)], speed=200, start=SIMULATION_START, until=SIMULATION_START
    )
    online = EdgeGateway(
        queue=second_queue,
        broker=machine_broker(mqtt_url),
        links=[shared_link(f"edge-{test_run_id}-restart")],
        adapters=[simulator],
    )
    async with online:
        await subscriber.wait_until(lambda got: sum(1 for d, _ in got if d == device) >= 6)
        async with asyncio.timeout(GUARD_S):
            await online.counters.wait_until(lambda c: c.pending == 0)
    await second_queue.close()

    # The five left from before first, then the simulator, continuing the device's numbering.
    assert by_device(subscriber.snapshot())[device] == [0, 1, 2, 3, 4, 5]


async def test_the_disk_budget_drops_the_oldest_while_the_broker_is_away(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = await QueueWorker.open(tmp_path / "small.db", max_rows=10)
    push = PushAdapter()
    gateway = EdgeGateway(
        queue=queue, broker=broker_at("127.0.0.1", free_port()), links=[shared_link("small")], adapters=[push]
    )
    with caplog.at_level(logging.WARNING, logger="edge.queue"):
        async with gateway:
            for seq in range(15):
                push.push("budget-device", vitals(seq))
            async with asyncio.timeout(GUARD_S):
                await gateway.counters.wait_until(lambda c: c.queued == 15)
    await queue.close()

    assert gateway.counters.dropped == 5
    assert gateway.counters.pending == 10
    assert any("over its disk budget" in r.getMessage() for r in caplog.records)
    left = MessageQueue(tmp_path / "small.db")
    assert [m.seq for m in left.peek(after_id=0, limit=20)] == list(range(5, 15))
    left.close()


async def test_a_status_line_is_logged_periodically(
    tmp_path: Path, make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = make_gateway(
        broker_at("127.0.0.1", free_port()), [shared_link("status")], [], status_interval_s=0.01
    )
    seen = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("edge status:"):
                seen.set()

    handler = Watch()
    logging.getLogger("edge.gateway").addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="edge.gateway"):
            async with gateway:
                async with asyncio.timeout(GUARD_S):
                    await seen.wait()
    finally:
        logging.getLogger("edge.gateway").removeHandler(handler)

    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("edge status:"))
    assert "broker links 0/1 connected" in line
    for counter in ("queued", "sent", "acked", "dropped", "reconnects"):
        assert f"{counter} " in line


class BrokenAdapter:
    """A driver that delivers one message and then fails, as a device unplugged mid-read might."""

    name = "broken"

    async def messages(self, next_seq: Mapping[str, int]) -> AsyncIterator[DeviceMessage]:
        yield DeviceMessage("broken-device", vitals(0))
        raise OSError("serial port vanished")


async def test_a_failing_adapter_is_logged_and_the_others_carry_on(
    make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    push = PushAdapter()
    gateway = make_gateway(
        broker_at("127.0.0.1", free_port()), [shared_link("broken")], [BrokenAdapter(), push]
    )

    with caplog.at_level(logging.ERROR, logger="edge.gateway"):
        async with gateway:
            push.push("healthy-device", vitals(0))
            push.close()
            async with asyncio.timeout(GUARD_S):
                await gateway.adapters_done.wait()
                await gateway.counters.wait_until(lambda c: c.queued == 2)

    assert any("edge adapter broken failed" in r.getMessage() for r in caplog.records)
