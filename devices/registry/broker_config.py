"""The broker's configuration produced from the registry: `mosquitto.conf` and the plugin's JSON file.

The JSON holds the admin and ingest accounts and every active device with its current secret, all as
PBKDF2-SHA512 hashes (the registry's own, see `credentials`), so a broker started from it admits
exactly the registry's devices. Mosquitto reads it at start and rewrites it as it is administered;
`deploy/mosquitto/mosquitto.conf` is this module's output for the production container.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.registry import dynsec
from devices.registry.credentials import hash_secret, parse_secret_hash
from devices.registry.dynsec import Account, DeviceEntry
from devices.registry.models import Device, DeviceCredential, DeviceStatus

CONF_FILE = "mosquitto.conf"
DYNSEC_FILE = "dynamic-security.json"
# Where the eclipse-mosquitto:2 image keeps the plugin, and where our compose file mounts things.
CONTAINER_PLUGIN = "/usr/lib/mosquitto_dynamic_security.so"
CONTAINER_CONFIG_DIR = "/mosquitto/config/ownat"
CONTAINER_DATA_DIR = "/mosquitto/data/"


@dataclass(frozen=True, slots=True)
class BrokerLayout:
    """Where the broker listens and finds its files; the defaults describe the production container."""

    port: int = 1883
    bind_address: str | None = None  # None: every interface
    plugin_path: str = CONTAINER_PLUGIN
    config_dir: str = CONTAINER_CONFIG_DIR  # the JSON file's directory, as the broker sees it
    persistence_dir: str | None = CONTAINER_DATA_DIR  # None: no persistence


def render_mosquitto_conf(layout: BrokerLayout) -> str:
    """The broker's main configuration file."""
    listener = f"listener {layout.port}" + (f" {layout.bind_address}" if layout.bind_address else "")
    lines = [
        "# Ownat's MQTT broker (Mosquitto 2), written by `ownat broker-config`.",
        "# Every client authenticates through the dynamic security plugin: each device with its own secret,",
        "# allowed to publish only under ownat/v1/devices/<its id>/; the ingest workers subscribe, and publish",
        "# only the acknowledgements of what they committed (ownat/v1/devices/<id>/ack, retained).",
        "# The platform administers the plugin over $CONTROL/dynamic-security/v1 with its admin account, so",
        "# issuing, rotating and revoking device secrets takes effect without a restart.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"plugin {layout.plugin_path}",
        f"plugin_opt_config_file {layout.config_dir}/{DYNSEC_FILE}",
        "",
        "# Plain MQTT: keep it on a trusted network, or add a TLS listener (8883, certfile/keyfile) for devices",
        "# that connect from outside it; the admin account's commands carry device secrets.",
        listener,
        "protocol mqtt",
        "",
    ]
    if layout.persistence_dir:
        lines += [
            "# QoS 1 messages queued for the ingest workers' persistent sessions survive a broker restart.",
            "persistence true",
            f"persistence_location {layout.persistence_dir}",
            "autosave_interval 60",
        ]
    else:
        lines.append("persistence false")
    lines += [
        "# The default (1000) is a few seconds of a busy hospital; a restarting ingest worker should not lose more.",
        "max_queued_messages 100000",
        "",
        "log_dest stdout",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
    ]
    return "\n".join(lines) + "\n"


async def registry_entries(session: AsyncSession) -> list[DeviceEntry]:
    """Every active device with a current secret, with that secret's stored hash."""
    rows = await session.execute(
        select(Device.device_id, DeviceCredential.id, DeviceCredential.secret_hash)
        .join(DeviceCredential, DeviceCredential.device_uuid == Device.id)
        .where(Device.status == DeviceStatus.ACTIVE, DeviceCredential.revoked_at.is_(None))
        .order_by(Device.device_id)
    )
    return [
        DeviceEntry(
            device_id=device_id, credential_id=credential_id, secret_hash=parse_secret_hash(secret_hash)
        )
        for device_id, credential_id, secret_hash in rows
    ]


def write_broker_files(
    out_dir: Path,
    *,
    layout: BrokerLayout,
    admin: Account,
    ingest: Account | None,
    devices: Iterable[DeviceEntry],
) -> list[Path]:
    """Writes `mosquitto.conf` and the plugin's JSON into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = dynsec.render_config(
        admin=(admin.username, parse_secret_hash(hash_secret(admin.password))),
        ingest=(ingest.username, parse_secret_hash(hash_secret(ingest.password))) if ingest else None,
        devices=devices,
    )
    conf_path, dynsec_path = out_dir / CONF_FILE, out_dir / DYNSEC_FILE
    conf_path.write_text(render_mosquitto_conf(layout))
    _write_private(dynsec_path, json.dumps(config, indent=2) + "\n")
    return [conf_path, dynsec_path]


def _write_private(path: Path, text: str) -> None:
    # Hashes only, but still nobody else's business: created owner-only, then replaced atomically.
    temporary = path.with_suffix(path.suffix + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    temporary.replace(path)
