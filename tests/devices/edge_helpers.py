"""The edge gateway in a test: on this event loop, end-to-end acknowledgement on, one shared link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from devices.protocol import Reading, VitalsMessage
from edge.adapters import DeviceAdapter
from edge.forwarder import LinkSpec
from edge.gateway import EdgeGateway
from edge.store import QueueWorker
from tests.devices.ingest_helpers import METRICS, unique_name
from tests.edge.conftest import broker_at

# Short, so that what the broker dropped comes back within the test; production waits 5 s.
ACK_TIMEOUT_S = 0.5


def vitals(seq: int, at: datetime) -> VitalsMessage:
    """One message with one reading per metric, all at `at` (as `vitals_payload`)."""
    readings = [
        Reading(metric=alias, value=(low + high) / 2, unit=unit, time=at)
        for alias, unit, low, high in METRICS
    ]
    return VitalsMessage(seq=seq, readings=readings)


@asynccontextmanager
async def edge_gateway(
    host: str, port: int, queue_path: Path, producer: DeviceAdapter, *, ack_timeout_s: float = ACK_TIMEOUT_S
) -> AsyncIterator[EdgeGateway]:
    """The edge gateway with end-to-end acknowledgement on, one shared link."""
    queue = await QueueWorker.open(queue_path)
    link = LinkSpec(
        name="gateway",
        client_id=unique_name("edge"),
        username=None,
        password=None,
        devices=frozenset(),
        exclude=True,
    )
    broker = broker_at(
        host,
        port,
        end_to_end_ack=True,
        ack_timeout_s=ack_timeout_s,
        ack_timeout_cap_s=max(2.0, ack_timeout_s),
    )
    gateway = EdgeGateway(queue=queue, broker=broker, links=[link], adapters=[producer])
    try:
        async with gateway:
            yield gateway
    finally:
        await queue.close()
