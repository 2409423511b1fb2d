"""Builds a running gateway from an `EdgeConfig`: broker settings, links, adapters, the queue."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable

from devices.simulator import ArtefactRates, SimulatedDevice
from edge.adapters import DeviceAdapter, SimulatorAdapter
from edge.backoff import Backoff
from edge.config import EdgeConfig
from edge.forwarder import LinkSpec
from edge.gateway import EdgeGateway
from edge.mqtt_settings import BrokerSettings, TlsSettings, parse_broker_url
from edge.store import QueueWorker

logger = logging.getLogger(__name__)


def broker_settings(config: EdgeConfig) -> BrokerSettings:
    """Connection settings; reads the TLS files, so errors in them show at startup."""
    broker = config.broker
    host, port, username, password, tls = parse_broker_url(broker.url)
    tls_files = TlsSettings(broker.ca_file, broker.cert_file, broker.key_file, broker.tls_insecure)
    use_tls = tls or broker.ca_file is not None or broker.cert_file is not None
    if broker.tls_insecure and not use_tls:
        raise ValueError("tls_insecure only applies to TLS (an mqtts:// URL or a CA file)")
    return BrokerSettings(
        host=host,
        port=port,
        username=username,
        password=password,
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
    """The adapters the configured devices need (all simulated devices share one simulator)."""
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
        if device.adapter.type == "simulator"
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
