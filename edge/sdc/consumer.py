"""The SDC consumer: connects to IEEE 11073 SDC providers and feeds what they report to the gateway.

One `SdcDevice` per provider (a monitor, a ventilator, an infusion pump's MDS): its Ownat device id
and either its address (the provider's transport address, `http://10.1.2.3:6464/...`) or its
endpoint reference (`urn:uuid:...`), which WS-Discovery resolves on the given interface each time
the consumer connects. A provider restarted on another port is found again only by its endpoint
reference; one at a fixed address may be given by address.

A connection (one thread per provider, as sdc11073 works with threads): get the MDIB, subscribe to
the episodic metric and alert reports, send the current values and the alert conditions present,
then every change as it is reported. Renewing the subscription every `renew_s` seconds is also the
liveness check: a provider that ends the subscription, stops answering or goes away is taken as
gone; the device is reported offline and the consumer connects again with a capped, jittered
backoff until the provider is back. Alert conditions already reported are not reported again after
a reconnection unless they changed meanwhile.

sdc11073 is an optional dependency (`pip install 'ownat[sdc]'`), imported when a connection starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from edge.backoff import Backoff
from edge.driven import DriverAdapter
from edge.sdc.mapping import Alert, Metric, alert_event, map_metric

if TYPE_CHECKING:
    from edge.sdc.provider import SimulatedMonitors

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SdcDevice:
    """One SDC provider to consume."""

    device_id: str
    address: str | None = None
    epr: str | None = None
    # The address of the network interface WS-Discovery probes on (with `epr`).
    discovery_interface: str = "127.0.0.1"
    discovery_timeout_s: float = 3.0
    # Whole seconds: sdc11073 counts the renewal interval in one-second steps.
    renew_s: int = 10

    def __post_init__(self) -> None:
        if self.renew_s < 1:
            raise ValueError(f"SDC device {self.device_id}: renew_s is a whole number of seconds, at least 1")
        if (self.address is None) == (self.epr is None):
            raise ValueError(
                f"SDC device {self.device_id}: give the provider's address or its epr (one of them)"
            )


def _text(values: Any) -> str | None:
    for item in values or ():
        if getattr(item, "text", None):
            return str(item.text)
    return None


def _enum(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


class SdcLink:
    """One provider: connects, follows its reports, reconnects when it goes (see the module docstring)."""

    def __init__(
        self,
        adapter: DriverAdapter,
        device: SdcDevice,
        stop: threading.Event,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.adapter = adapter
        self.device = device
        self.stop = stop
        self.backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self.connections = 0
        self._alerts: dict[str, bool] = {}
        self._unknown: set[str] = set()
        self._discovery: Any = None
        # The snapshot after connecting (this thread) and the reports (sdc11073's) may overlap.
        self._lock = threading.Lock()

    def run(self) -> None:
        """Connects again and again until `stop` is set (on this thread)."""
        attempt = 0
        try:
            while not self.stop.is_set():
                try:
                    if self._session():
                        attempt = 0
                except Exception as error:  # sdc11073 raises many kinds; each means "not connected"
                    logger.warning("SDC %s: %s: %s", self.device.device_id, type(error).__name__, error)
                self.stop.wait(self.backoff.delay_s(attempt))
                attempt += 1
        finally:
            if self._discovery is not None:
                self._discovery.stop()

    def _locate(self) -> str | None:
        if self.device.address is not None:
            return self.device.address
        from sdc11073.definitions_sdc import SdcV1Definitions
        from sdc11073.wsdiscovery import WSDiscovery

        if self._discovery is None:
            self._discovery = WSDiscovery(self.device.discovery_interface)
            self._discovery.start()
        self._discovery.clear_remote_services()
        services = self._discovery.search_services(
            types=SdcV1Definitions.MedicalDeviceTypesFilter, timeout=self.device.discovery_timeout_s
        )
        for service in services:
            if service.epr == self.device.epr and service.x_addrs:
                return str(service.x_addrs[0])
        logger.info("SDC %s: provider %s not found by discovery", self.device.device_id, self.device.epr)
        return None

    def _session(self) -> bool:
        """One connection, until it is lost or `stop` is set; True when it got connected."""
        from sdc11073 import observableproperties
        from sdc11073.consumer.consumerimpl import SdcConsumer
        from sdc11073.definitions_sdc import SdcV1Definitions
        from sdc11073.mdib import ConsumerMdib
        from sdc11073.xml_types.actions import periodic_actions

        address = self._locate()
        if address is None:
            return False
        consumer = SdcConsumer(address, sdc_definitions=SdcV1Definitions, ssl_context_container=None)
        lost = threading.Event()
        online = False
        try:
            consumer.start_all(
                not_subscribed_actions=periodic_actions, fixed_renew_interval=self.device.renew_s
            )
            mdib = ConsumerMdib(consumer)
            mdib.init_mdib()
            observableproperties.strongbind(consumer, is_connected=lambda up: None if up else lost.set())
            observableproperties.strongbind(
                mdib,
                metrics_by_handle=lambda states: self._metrics(mdib, states.values()),
                alert_by_handle=lambda states: self._alerts_changed(mdib, states.values()),
            )
            self.connections += 1
            online = True
            now = datetime.now(UTC)
            self.adapter.status(self.device.device_id, online=True, at=now)
            logger.info("SDC %s connected to %s", self.device.device_id, address)
            self._metrics(mdib, mdib.states.objects)
            self._alerts_changed(mdib, mdib.states.objects)
            if not consumer.is_connected:
                lost.set()
            while not (lost.is_set() or self.stop.is_set()):
                lost.wait(0.5)
            if lost.is_set():
                logger.warning("SDC %s: provider %s gone", self.device.device_id, address)
            return True
        finally:
            try:
                consumer.stop_all(unsubscribe=not lost.is_set())
            except Exception as error:  # the provider may be gone half-way through unsubscribing
                logger.info("SDC %s: stopping the consumer: %s", self.device.device_id, error)
            if online:
                self.adapter.status(self.device.device_id, online=False, at=datetime.now(UTC))

    def _metrics(self, mdib: Any, states: Iterable[Any]) -> None:
        with self._lock:
            self._map_metrics(mdib, states)

    def _map_metrics(self, mdib: Any, states: Iterable[Any]) -> None:
        from sdc11073.mdib.statecontainers import NumericMetricStateContainer

        received_at = datetime.now(UTC)
        by_time: dict[datetime, list[tuple[str, float, str]]] = defaultdict(list)
        unknown: list[str] = []
        for state in states:
            if not isinstance(state, NumericMetricStateContainer):
                continue
            descriptor = mdib.descriptions.handle.get_one(state.DescriptorHandle, allow_none=True)
            if descriptor is None:
                continue
            value = state.MetricValue
            quality = getattr(value, "MetricQuality", None)
            mapped = map_metric(
                Metric(
                    handle=state.DescriptorHandle,
                    type_code=descriptor.Type.Code if descriptor.Type else None,
                    coding_system=descriptor.Type.CodingSystem if descriptor.Type else None,
                    unit_code=descriptor.Unit.Code if descriptor.Unit else None,
                    value=value.Value if value is not None else None,
                    validity=_enum(quality.Validity) if quality is not None else None,
                    determined_at=value.DeterminationTime if value is not None else None,
                ),
                received_at,
            )
            if mapped.reading is not None and mapped.time is not None:
                by_time[mapped.time].append(mapped.reading)
            elif mapped.unknown and state.DescriptorHandle not in self._unknown:
                # Told once per metric: a monitor measures far more than Ownat stores.
                self._unknown.add(state.DescriptorHandle)
                unknown.append(mapped.reason or state.DescriptorHandle)
            elif mapped.reason:
                logger.debug("SDC %s: %s", self.device.device_id, mapped.reason)
        device_id = self.device.device_id
        for at, readings in sorted(by_time.items()):
            refused = self.adapter.readings(device_id, readings, at)
            self.adapter.report_refused(device_id, "refused_measurement", refused, received_at)
        self.adapter.report_refused(device_id, "unknown_metric", unknown, received_at)

    def _alerts_changed(self, mdib: Any, states: Iterable[Any]) -> None:
        with self._lock:
            self._map_alerts(mdib, states)

    def _map_alerts(self, mdib: Any, states: Iterable[Any]) -> None:
        from sdc11073.mdib.statecontainers import AlertConditionStateContainer

        now = datetime.now(UTC)
        for state in states:
            if not isinstance(state, AlertConditionStateContainer):
                continue
            handle = state.DescriptorHandle
            present = bool(state.Presence)
            if self._alerts.get(handle, False) == present:
                continue
            self._alerts[handle] = present
            descriptor = mdib.descriptions.handle.get_one(handle, allow_none=True)
            kind = priority = code = description = None
            if descriptor is not None:
                kind, priority = _enum(descriptor.Kind), _enum(descriptor.Priority)
                code = descriptor.Type.Code if descriptor.Type else None
                description = _text(descriptor.Type.ConceptDescription) if descriptor.Type else None
            event_code, severity, detail = alert_event(
                Alert(handle, kind, priority, code, description, present)
            )
            self.adapter.event(self.device.device_id, event_code, now, severity=severity, detail=detail)


class SdcAdapter(DriverAdapter):
    """The gateway adapter of SDC providers; `links` are their connections while it runs."""

    links: list[SdcLink]


def sdc_adapter(
    devices: Sequence[SdcDevice],
    *,
    backoff: Backoff | None = None,
    simulated: SimulatedMonitors | None = None,
) -> SdcAdapter:
    """The gateway adapter of these SDC providers: one consumer thread each.

    `simulated`: monitors to run here (`ownat edge --simulate-sdc`), started first and stopped last.
    """

    async def drive(adapter: DriverAdapter) -> None:
        if simulated is not None:
            await asyncio.to_thread(simulated.start)
        try:
            await consume(adapter)
        finally:
            if simulated is not None:
                await asyncio.to_thread(simulated.stop)

    async def consume(adapter: DriverAdapter) -> None:
        stop = threading.Event()
        sdc.links = [SdcLink(adapter, device, stop, backoff=backoff) for device in devices]
        threads = [
            threading.Thread(target=link.run, name=f"sdc {link.device.device_id}", daemon=True)
            for link in sdc.links
        ]
        for thread in threads:
            thread.start()

        def join_all() -> None:
            for thread in threads:
                thread.join(timeout=30)

        try:
            await asyncio.Event().wait()  # until the gateway stops (cancels this)
        finally:
            stop.set()
            await asyncio.to_thread(join_all)

    sdc = SdcAdapter(f"sdc ({len(devices)} providers)", drive)
    sdc.links = []
    return sdc
