"""Live data for the embedded mode: the demo hospital's monitors, simulated, behind an edge gateway.

The readings travel the whole pipeline as real devices' would: the edge gateway's queue (a file in
the data directory), the broker, the ingest worker, the database, the bus, the API and dashboards.
The gateway keeps each reading until the ingest worker acknowledges it end to end, exactly as in
production, so the demo runs the same delivery loop a hospital's does.

One stable bedside monitor speaks IEEE 11073 SDC instead (when sdc11073 is installed, as `bin/dev`
does): a simulated SDC provider on loopback, found by WS-Discovery and consumed by the edge's SDC
adapter, so the demo shows an SDC device's numerics and alerts on the same dashboards.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import uuid
from pathlib import Path

from devices.protocol import parse_mqtt_url
from devices.simulator import SimulatedDevice
from edge.adapters import DeviceAdapter, SimulatorAdapter
from edge.forwarder import LinkSpec
from edge.gateway import EdgeGateway
from edge.mqtt_settings import BrokerSettings
from edge.store import QueueWorker

log = logging.getLogger(__name__)

QUEUE_FILE = "demo-edge-queue.sqlite3"
# The status line in the log, for whoever wants to watch the acknowledgements come back.
STATUS_INTERVAL_S = 300.0


class DemoFeed:
    """Runs an edge gateway for the simulated devices over MQTT 3.1.1 (the embedded broker's)."""

    def __init__(self, broker_url: str, devices: list[SimulatedDevice], data_dir: Path) -> None:
        address = parse_mqtt_url(broker_url)
        self._broker = BrokerSettings(host=address.host, port=address.port)
        self._devices = devices
        self._queue_path = data_dir / QUEUE_FILE

    def _adapters(self) -> list[DeviceAdapter]:
        sdc = sdc_monitor(self._devices)
        if sdc is None:
            return [SimulatorAdapter(self._devices)]
        from edge.assembly import SIMULATED_SDC_NAMESPACE
        from edge.sdc.consumer import SdcDevice, sdc_adapter
        from edge.sdc.provider import SimulatedMonitors, SimulatedSdcMonitor

        monitor = SimulatedSdcMonitor(
            epr=uuid.uuid5(SIMULATED_SDC_NAMESPACE, sdc.device_id), serial=sdc.device_id
        )
        log.info("demo monitor %s speaks IEEE 11073 SDC", sdc.device_id)
        return [
            SimulatorAdapter([d for d in self._devices if d is not sdc]),
            sdc_adapter(
                [SdcDevice(sdc.device_id, epr=monitor.epr_urn)],
                simulated=SimulatedMonitors([(monitor, sdc)]),
            ),
        ]

    async def run(self) -> None:
        """Forwards the simulated readings until cancelled; what is unacknowledged then waits in the queue."""
        queue = await QueueWorker.open(self._queue_path)
        link = LinkSpec(
            name="demo",
            client_id="ownat-demo-edge",
            username=None,
            password=None,
            devices=frozenset(),
            exclude=True,
        )
        gateway = EdgeGateway(
            queue=queue,
            broker=self._broker,
            links=[link],
            adapters=self._adapters(),
            status_interval_s=STATUS_INTERVAL_S,
        )
        try:
            async with gateway:
                log.info(
                    "demo monitors publish through the edge gateway", extra={"queue": str(self._queue_path)}
                )
                await asyncio.Event().wait()  # until cancelled
        finally:
            await queue.close()


def sdc_monitor(devices: list[SimulatedDevice]) -> SimulatedDevice | None:
    """The demo monitor that speaks SDC: the last stable bedside monitor, when sdc11073 is installed."""
    if importlib.util.find_spec("sdc11073") is None:
        log.info("sdc11073 is not installed: every demo monitor publishes MQTT (pip install 'ownat[sdc]')")
        return None
    stable = [d for d in devices if d.kind == "bedside_monitor" and d.scenario == "stable"]
    return stable[-1] if stable else None
