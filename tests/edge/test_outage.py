"""The fault test: the broker stops under a streaming gateway and starts again on the same port.

Every reading produced meanwhile must reach a subscriber at least once, in order per device, and
after de-duplication by (device, metric, time) none may be missing or extra. Duplicates are
counted and reported (the edge re-sends only what was not acknowledged).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator

import pytest

from devices.protocol import VitalsMessage
from devices.simulator import SimulatedDevice
from edge.adapters import PushAdapter
from tests.devices.private_mosquitto import PrivateMosquitto, private_mosquitto
from tests.edge.broker_configs import persistent_config
from tests.edge.conftest import GatewayFactory, broker_at, expected_messages, shared_link
from tests.edge.subscriber import GUARD_S, Subscriber

DEVICES = 4
STEPS = 400  # 1,600 messages: 400 before the outage, 800 during it, 400 after


@pytest.fixture
def broker() -> Iterator[PrivateMosquitto]:
    with private_mosquitto(persistent_config) as running:
        yield running


def reading_keys(received: list[tuple[str, VitalsMessage]]) -> list[tuple[str, str, str]]:
    return [(d, r.metric, r.time.isoformat()) for d, m in received for r in m.readings]


async def test_every_reading_produced_during_a_broker_outage_arrives_once_in_order(
    broker: PrivateMosquitto,
    test_run_id: str,
    make_gateway: GatewayFactory,
    record_property: Callable[[str, object], None],
) -> None:
    devices = [SimulatedDevice(f"{test_run_id}-outage-{n}") for n in range(DEVICES)]
    expected = expected_messages(devices, STEPS)
    before, during, after = expected[:400], expected[400:1200], expected[1200:]
    subscriber = Subscriber(
        broker.host,
        broker.port,
        "ownat/v1/devices/+/vitals",
        client_id=f"outage-{test_run_id}",
        persistent=True,
    )
    await subscriber.start()
    # The simulator's messages, handed over in phases the test controls rather than at a rate.
    producer = PushAdapter("simulated devices")
    gateway = make_gateway(
        broker_at(broker.host, broker.port), [shared_link(f"edge-{test_run_id}")], [producer]
    )
    counters = gateway.counters
    try:
        async with gateway:
            for device_id, message in before:
                producer.push(device_id, message)
            # Mid-stream: the broker goes away while those are still being forwarded.
            await subscriber.wait_until(lambda got: len(got) >= 100)
            unsent_at_stop = counters.pending
            await asyncio.to_thread(broker.stop)
            async with asyncio.timeout(GUARD_S):
                await counters.wait_until(lambda c: c.links_connected == 0)
            for device_id, message in during:
                producer.push(device_id, message)
            async with asyncio.timeout(GUARD_S):
                await counters.wait_until(lambda c: c.queued == len(before) + len(during))
            waiting_in_outage = counters.pending
            assert counters.links_connected == 0
            await asyncio.to_thread(broker.start)
            for device_id, message in after:
                producer.push(device_id, message)
            async with asyncio.timeout(GUARD_S):
                await counters.wait_until(lambda c: c.queued == len(expected) and c.pending == 0)
            # Duplicates count once: wait for every distinct message.
            await subscriber.wait_until(lambda got: len({(d, m.seq) for d, m in got}) >= len(expected))
    finally:
        await subscriber.stop()

    received = subscriber.snapshot()

    # At least once, in order: each device's first arrivals are exactly its messages, in seq order.
    first_arrivals: dict[str, list[int]] = {}
    seen: set[tuple[str, int]] = set()
    for device_id, message in received:
        if (device_id, message.seq) not in seen:
            seen.add((device_id, message.seq))
            first_arrivals.setdefault(device_id, []).append(message.seq)
    expected_seqs: dict[str, list[int]] = {}
    for device_id, message in expected:
        expected_seqs.setdefault(device_id, []).append(message.seq)
    for device_id, seqs in expected_seqs.items():
        arrivals = first_arrivals.get(device_id, [])
        assert arrivals == seqs, (
            f"{device_id}: missing {sorted(set(seqs) - set(arrivals))[:10]}, "
            f"out of order at {[a for a, b in itertools.pairwise(arrivals) if b < a][:10]}"
        )
    # Exactly once after de-duplication by the platform's key (device, metric, time).
    arrived = reading_keys(received)
    assert set(arrived) == set(reading_keys(expected))
    assert counters.reconnects >= 1
    assert waiting_in_outage >= len(during)
    duplicate_messages = len(received) - len(expected)
    duplicate_readings = len(arrived) - len(set(arrived))
    # The broker's own retries to the subscriber carry DUP; the rest are the edge's re-sends of
    # messages the broker had taken but not acknowledged before it stopped.
    repeats = _repeats(received)
    redelivered = sum(1 for index in repeats if subscriber.dup_flags[index])
    from_edge = len(repeats) - redelivered
    for name, value in [
        ("unacknowledged_when_broker_stopped", unsent_at_stop),
        ("waiting_during_outage", waiting_in_outage),
        ("duplicate_messages_at_subscriber", duplicate_messages),
        ("duplicate_readings_at_subscriber", duplicate_readings),
        ("duplicates_from_broker_redelivery", redelivered),
        ("duplicates_from_edge_resends", from_edge),
        ("messages_resent_by_edge", counters.sent - counters.queued),
    ]:
        record_property(name, value)
    print(
        f"\noutage: {unsent_at_stop} unacknowledged when the broker stopped, {waiting_in_outage} waiting during "
        f"the outage; duplicates at the subscriber: {duplicate_messages} messages ({duplicate_readings} "
        f"readings), {redelivered} of them the broker's redelivery, {from_edge} from the edge "
        f"re-sending {counters.sent - counters.queued} unacknowledged messages"
    )


def _repeats(received: list[tuple[str, VitalsMessage]]) -> list[int]:
    """Indexes of the arrivals that repeat an earlier one."""
    seen: set[tuple[str, int]] = set()
    repeats = []
    for index, (device_id, message) in enumerate(received):
        if (device_id, message.seq) in seen:
            repeats.append(index)
        seen.add((device_id, message.seq))
    return repeats
