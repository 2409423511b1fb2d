"""Fixtures of the edge gateway tests: a queue on disk, gateways around it, simulated streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devices.protocol import VitalsMessage
from devices.simulator import ArtefactRates, SimulatedDevice, simulate
from edge.adapters import DeviceAdapter, SimulatorAdapter
from edge.backoff import Backoff
from edge.forwarder import LinkSpec
from edge.gateway import EdgeGateway
from edge.mqtt_settings import BrokerSettings
from edge.store import QueueWorker

# Quick reconnects keep outage tests short; the jitter is still full.
FAST_BACKOFF = Backoff(base_s=0.05, cap_s=0.5)
# Simulated readings start an hour ago, so a stream played faster than real time stays in the past.
SIMULATION_START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def broker_at(host: str, port: int, **options: object) -> BrokerSettings:
    """Settings for a test broker. Most edge tests watch the broker with a plain subscriber, where no
    platform confirms anything: they take messages off the queue on PUBACK, unless they ask for the
    end-to-end acknowledgement (`end_to_end_ack=True`) and run an ingest worker to give it."""
    options.setdefault("end_to_end_ack", False)
    return BrokerSettings(host=host, port=port, backoff=FAST_BACKOFF, **options)  # type: ignore[arg-type]


def shared_link(name: str) -> LinkSpec:
    """One anonymous connection for every device."""
    return LinkSpec(
        name="gateway", client_id=name, username=None, password=None, devices=frozenset(), exclude=True
    )


def fast_simulator(
    devices: Sequence[SimulatedDevice], steps: int, *, speed: float = 200.0
) -> SimulatorAdapter:
    """`steps` one-second steps of `devices`, released `speed` times faster than real time."""
    until = SIMULATION_START + timedelta(seconds=steps - 1)
    return SimulatorAdapter(devices, seed=11, speed=speed, start=SIMULATION_START, until=until)


def expected_messages(devices: Sequence[SimulatedDevice], steps: int) -> list[tuple[str, VitalsMessage]]:
    """Everything `fast_simulator` produces, in order (the simulation is deterministic)."""
    until = SIMULATION_START + timedelta(seconds=steps - 1)
    return list(simulate(devices, SIMULATION_START, 1.0, seed=11, until=until, artefacts=ArtefactRates()))


def expected_stream(devices: Sequence[SimulatedDevice], steps: int) -> list[tuple[str, int]]:
    """(device id, seq) of everything `fast_simulator` produces, in order."""
    return [(device_id, message.seq) for device_id, message in expected_messages(devices, steps)]


GatewayFactory = Callable[..., EdgeGateway]


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[QueueWorker]:
    worker = await QueueWorker.open(tmp_path / "edge-queue.db")
    yield worker
    await worker.close()


@pytest.fixture
def make_gateway(queue: QueueWorker) -> GatewayFactory:
    """A gateway on the test's queue (not started)."""

    def make(
        broker: BrokerSettings,
        links: Sequence[LinkSpec],
        adapters: Sequence[DeviceAdapter],
        **options: object,
    ) -> EdgeGateway:
        return EdgeGateway(queue=queue, broker=broker, links=links, adapters=adapters, **options)  # type: ignore[arg-type]

    return make
