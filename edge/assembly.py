"""Builds a running gateway from an `EdgeConfig`: broker settings, links, adapters, the queue."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import socket
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from devices.protocol import parse_mqtt_url
from devices.simulator import ArtefactRates, SimulatedDevice
from edge.adapters import DeviceAdapter, SimulatorAdapter
from edge.backoff import Backoff
from edge.config import (
    BLUETOOTH_CHARACTERISTICS,
    BluetoothAdapterConfig,
    EdgeConfig,
    SdcAdapterConfig,
    SimulatorAdapterConfig,
)
from edge.forwarder import LinkSpec
from edge.gateway import EdgeGateway
from edge.mqtt_settings import BrokerSettings, TlsSettings
from edge.store import QueueWorker

logger = logging.getLogger(__name__)

# Simulated SDC monitors' endpoint references are uuid5(this, device id): the same across restarts.
SIMULATED_SDC_NAMESPACE = uuid.UUID("5d0c6e0e-3f0a-4c43-9a43-6f776e617401")


def broker_settings(config: EdgeConfig) -> BrokerSettings:
    """Connection settings; reads the TLS files, so errors in them show at startup."""
    broker = config.broker
    address = parse_mqtt_url(broker.url)
    tls_files = TlsSettings(broker.ca_file, broker.cert_file, broker.key_file, broker.tls_insecure)
    use_tls = address.tls or broker.ca_file is not None or broker.cert_file is not None
    if broker.tls_insecure and not use_tls:
        raise ValueError("tls_insecure only applies to TLS (an mqtts:// URL or a CA file)")
    return BrokerSettings(
        host=address.host,
        port=address.port,
        username=address.username,
        password=address.password,
        mqtt_version=broker.mqtt_version,
        ssl_context=tls_files.context() if use_tls else None,
        keepalive_s=broker.keepalive_s,
        connect_timeout_s=broker.connect_timeout_s,
        inflight=broker.inflight,
        backoff=Backoff(broker.backoff_base_s, max(broker.backoff_cap_s, broker.backoff_base_s)),
        end_to_end_ack=broker.end_to_end_ack,
        ack_timeout_s=broker.ack_timeout_s,
        ack_timeout_cap_s=broker.ack_timeout_cap_s,
        ack_window=broker.ack_window,
    )


def link_specs(
    config: EdgeConfig, broker: BrokerSettings, *, queued_devices: Iterable[str] = ()
) -> list[LinkSpec]:
    """One link per device with credentials of its own, and a shared one for every other device."""
    own = [device for device in config.devices if device.has_own_credentials]
    specs = [
        LinkSpec(
            name=device.id,
            client_id=device.id,
            username=device.username or device.id,
            password=device.secret(),
            devices=frozenset({device.id}),
        )
        for device in own
    ]
    own_ids = frozenset(spec.name for spec in specs)
    # The shared link also serves devices left in the queue by an earlier configuration.
    others = [d.id for d in config.devices if d.id not in own_ids] + [
        d for d in queued_devices if d not in own_ids
    ]
    if others or not specs:
        account = config.gateway
        specs.append(
            LinkSpec(
                name="gateway",
                client_id=account.client_id or f"ownat-edge-{socket.gethostname()}"[:64],
                username=account.username or broker.username,
                password=account.secret() if account.username else broker.password,
                devices=own_ids,
                exclude=True,
            )
        )
    return specs


def adapters(config: EdgeConfig) -> list[DeviceAdapter]:
    """The adapters the configured devices need: one simulator, one SDC consumer, one Bluetooth driver."""
    built = [*_simulator(config), *_sdc(config), *_bluetooth(config)]
    return built


def _needs(module: str, extra: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ValueError(f"{what} need the {module} package: pip install 'ownat[{extra}]'")


def _sdc(config: EdgeConfig) -> list[DeviceAdapter]:
    configured = [(d.id, d.adapter) for d in config.devices if isinstance(d.adapter, SdcAdapterConfig)]
    if not configured:
        return []
    _needs("sdc11073", "sdc", "SDC devices")
    from edge.sdc.consumer import SdcDevice, sdc_adapter
    from edge.sdc.provider import SimulatedMonitors, SimulatedSdcMonitor

    devices: list[SdcDevice] = []
    simulated: list[tuple[SimulatedSdcMonitor, SimulatedDevice]] = []
    for device_id, adapter in configured:
        if adapter.simulate:
            # A stable endpoint reference per device id: the consumer finds the monitor by discovery.
            monitor = SimulatedSdcMonitor(
                interface=adapter.discovery_interface, epr=uuid.uuid5(SIMULATED_SDC_NAMESPACE, device_id)
            )
            patient = SimulatedDevice(device_id, scenario=adapter.scenario, time_scale=adapter.time_scale)
            simulated.append((monitor, patient))
            epr: str | None = monitor.epr_urn
        else:
            epr = adapter.epr
        devices.append(
            SdcDevice(
                device_id,
                address=None if adapter.simulate else adapter.address,
                epr=epr,
                discovery_interface=adapter.discovery_interface,
                renew_s=adapter.renew_s,
            )
        )
    monitors = SimulatedMonitors(simulated, seed=config.simulation.seed, step_s=config.simulation.step_s)
    return [sdc_adapter(devices, simulated=monitors if simulated else None)]


def _bluetooth(config: EdgeConfig) -> list[DeviceAdapter]:
    configured = [(d.id, d.adapter) for d in config.devices if isinstance(d.adapter, BluetoothAdapterConfig)]
    if not configured:
        return []
    _needs("bleak", "bluetooth", "Bluetooth devices")
    from edge.ble.driver import BleDevice, ble_adapter
    from edge.ble.radio import BleakSource

    devices = [
        BleDevice(
            device_id,
            adapter.address,
            tuple(BLUETOOTH_CHARACTERISTICS[name] for name in adapter.characteristics),
            ZoneInfo(adapter.clock_timezone),
        )
        for device_id, adapter in configured
    ]
    return [ble_adapter(devices, BleakSource)]


def _simulator(config: EdgeConfig) -> list[DeviceAdapter]:
    simulated = [
        SimulatedDevice(
            device_id=device.id,
            kind=device.adapter.kind,
            scenario=device.adapter.scenario,
            onset_s=device.adapter.onset_s,
            time_scale=device.adapter.time_scale,
            age_years=device.adapter.age_years,
        )
        for device in config.devices
        if isinstance(device.adapter, SimulatorAdapterConfig)
    ]
    if not simulated:
        return []
    simulation = config.simulation
    rates = ArtefactRates() if simulation.artefacts else ArtefactRates.none()
    return [SimulatorAdapter(simulated, seed=simulation.seed, step_s=simulation.step_s, artefacts=rates)]


async def run_gateway(config: EdgeConfig, stop: asyncio.Event) -> None:
    """Opens the queue, runs the gateway until `stop` is set, and closes everything."""
    broker = broker_settings(config)
    queue = await QueueWorker.open(
        config.queue.path,
        max_bytes=config.queue.max_bytes,
        max_rows=config.queue.max_rows,
        durability=config.queue.durability,
    )
    try:
        specs = link_specs(config, broker, queued_devices=await queue.pending_devices())
        gateway = EdgeGateway(
            queue=queue,
            broker=broker,
            links=specs,
            adapters=adapters(config),
            status_interval_s=config.status_interval_s,
        )
        await gateway.start()
        await gateway.serve(stop)
        logger.info(
            "edge gateway stopped; %d message(s) wait in %s for the next start",
            gateway.counters.pending,
            config.queue.path,
        )
        logger.info(gateway.counters.status_line())
    finally:
        await queue.close()
