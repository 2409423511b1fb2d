"""The edge gateway's configuration file (TOML, or JSON by extension) and what it builds.

    [broker]
    url = "mqtts://broker.hospital.example:8883"   # user:password@ here is the gateway account
    mqtt_version = "3.1.1"                         # or "5"
    ack_timeout_s = 5.0                            # unconfirmed this long: sent again (the wait doubles)
    ca_file = "ca.pem"                             # paths are relative to this file
    cert_file = "gateway.pem"                      # optional client certificate and key
    key_file = "gateway.key"

    [gateway]                                      # the shared account, for devices without their own
    username = "gateway-ward3"
    password_file = "gateway.secret"

    [queue]
    path = "/var/lib/ownat-edge/queue.sqlite3"
    max_bytes = 268435456
    durability = "full"                            # or "normal" (see edge.queue)

    [[devices]]
    id = "ward3-bed12"
    password_file = "devices/ward3-bed12.secret"   # own credentials: own connection (username = id)
    adapter = { type = "simulator", kind = "bedside_monitor", scenario = "stable" }

    [[devices]]
    id = "icu-bed4"                                # an IEEE 11073 SDC monitor (needs ownat[sdc])
    adapter = { type = "sdc", epr = "urn:uuid:...", discovery_interface = "10.1.2.3" }

    [[devices]]
    id = "home-cuff-7"                             # a Bluetooth LE blood pressure cuff (ownat[bluetooth])
    adapter = { type = "bluetooth", address = "A4:C1:38:12:34:56", clock_timezone = "Europe/Berlin" }

Devices with a password get a connection of their own, as the broker's ACL expects of a device
publishing under its own id; the others share the gateway account's connection.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from devices.protocol import DEVICE_ID_PATTERN
from devices.simulator import DeviceKind, ScenarioName

_STRICT = ConfigDict(extra="forbid")


class BrokerConfig(BaseModel):
    model_config = _STRICT

    url: str = "mqtt://127.0.0.1:1883"
    mqtt_version: Literal["3.1.1", "5"] = "3.1.1"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    tls_insecure: bool = False
    keepalive_s: int = Field(default=30, ge=5)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    inflight: int = Field(default=16, ge=1, le=1000)
    backoff_base_s: float = Field(default=0.5, gt=0)
    backoff_cap_s: float = Field(default=30.0, gt=0)
    # Keep each message until the platform confirms it committed it (see edge.confirmations).
    end_to_end_ack: bool = True
    ack_timeout_s: float = Field(default=5.0, gt=0)
    ack_timeout_cap_s: float = Field(default=60.0, gt=0)
    ack_window: int = Field(default=1000, ge=1)


class Credentials(BaseModel):
    model_config = _STRICT

    username: str | None = None
    password: str | None = None
    password_file: Path | None = None

    @model_validator(mode="after")
    def _one_password(self) -> Credentials:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        return self

    def secret(self) -> str | None:
        """The password, read from its file when given that way."""
        if self.password_file is None:
            return self.password
        return self.password_file.read_text().strip()


class GatewayAccount(Credentials):
    client_id: str | None = None


class QueueConfig(BaseModel):
    model_config = _STRICT

    path: Path = Path("ownat-edge-queue.sqlite3")
    max_bytes: int | None = Field(default=256 * 1024 * 1024, gt=0)
    max_rows: int | None = Field(default=None, gt=0)
    durability: Literal["full", "normal"] = "full"


class SimulatorAdapterConfig(BaseModel):
    model_config = _STRICT

    type: Literal["simulator"] = "simulator"
    kind: DeviceKind = "bedside_monitor"
    scenario: ScenarioName = "stable"
    onset_s: float = Field(default=0.0, ge=0)
    time_scale: float = Field(default=1.0, gt=0)
    age_years: float | None = Field(default=None, gt=0, le=120)


class SdcAdapterConfig(BaseModel):
    """An IEEE 11073 SDC provider (edge.sdc.consumer): by address, or by endpoint reference."""

    model_config = _STRICT

    type: Literal["sdc"] = "sdc"
    address: str | None = Field(default=None, pattern=r"^https?://")
    epr: str | None = None
    discovery_interface: str = "127.0.0.1"
    renew_s: int = Field(default=10, ge=1)
    # Run a simulated SDC monitor (edge.sdc.provider) for this device and consume it: demos, tests.
    simulate: bool = False
    scenario: ScenarioName = "stable"
    time_scale: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _one_way_to_find_it(self) -> SdcAdapterConfig:
        if not self.simulate and (self.address is None) == (self.epr is None):
            raise ValueError("an sdc adapter needs the provider's address or its epr (one of them)")
        return self


# Bluetooth measurement characteristics by name (edge.ble.characteristics).
BLUETOOTH_CHARACTERISTICS = {
    "heart_rate": 0x2A37,
    "temperature": 0x2A1C,
    "blood_pressure": 0x2A35,
    "plx_spot_check": 0x2A5E,
    "plx_continuous": 0x2A5F,
    "weight": 0x2A9D,
}


class BluetoothAdapterConfig(BaseModel):
    """A Bluetooth LE health device (edge.ble): its address, what to listen to, its clock's zone."""

    model_config = _STRICT

    type: Literal["bluetooth"] = "bluetooth"
    address: str = Field(min_length=1)
    characteristics: list[Literal[tuple(BLUETOOTH_CHARACTERISTICS)]] = list(BLUETOOTH_CHARACTERISTICS)  # type: ignore[valid-type]
    # The profiles' time stamps carry no zone: the zone the device's clock is set to (IANA name).
    clock_timezone: str = "UTC"

    @field_validator("clock_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None
        return value


def _adapter_type(value: Any) -> str:
    # A file written before there were several adapters has none: it meant the simulator.
    if isinstance(value, dict):
        return str(value.get("type", "simulator"))
    return str(getattr(value, "type", "simulator"))


AdapterConfig = Annotated[
    Annotated[SimulatorAdapterConfig, Tag("simulator")]
    | Annotated[SdcAdapterConfig, Tag("sdc")]
    | Annotated[BluetoothAdapterConfig, Tag("bluetooth")],
    Discriminator(_adapter_type),
]


class DeviceConfig(Credentials):
    id: str = Field(pattern=DEVICE_ID_PATTERN.pattern)
    adapter: AdapterConfig

    @property
    def has_own_credentials(self) -> bool:
        return self.password is not None or self.password_file is not None


class SimulationConfig(BaseModel):
    model_config = _STRICT

    seed: int = 0
    step_s: float = Field(default=1.0, gt=0)
    artefacts: bool = True


class EdgeConfig(BaseModel):
    """The whole file."""

    model_config = _STRICT

    broker: BrokerConfig = BrokerConfig()
    gateway: GatewayAccount = GatewayAccount()
    queue: QueueConfig = QueueConfig()
    simulation: SimulationConfig = SimulationConfig()
    devices: list[DeviceConfig] = []
    status_interval_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _unique_ids(self) -> EdgeConfig:
        ids = [device.id for device in self.devices]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"device ids appear more than once: {', '.join(duplicates)}")
        return self


def load_config(path: Path) -> EdgeConfig:
    """Reads a TOML (or .json) configuration file; relative paths in it are taken from its directory."""
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    config = EdgeConfig.model_validate(data)
    return resolve_paths(config, path.parent)


def resolve_paths(config: EdgeConfig, base: Path) -> EdgeConfig:
    """The configuration with its relative file paths made relative to `base`."""

    def anchored(value: Path | None) -> Path | None:
        return None if value is None or value.is_absolute() else base / value

    broker = config.broker.model_copy(
        update={
            name: anchored(getattr(config.broker, name)) or getattr(config.broker, name)
            for name in ("ca_file", "cert_file", "key_file")
        }
    )
    queue = config.queue.model_copy(update={"path": anchored(config.queue.path) or config.queue.path})
    gateway = config.gateway.model_copy(
        update={"password_file": anchored(config.gateway.password_file) or config.gateway.password_file}
    )
    devices = [
        device.model_copy(update={"password_file": anchored(device.password_file) or device.password_file})
        for device in config.devices
    ]
    return config.model_copy(
        update={"broker": broker, "queue": queue, "gateway": gateway, "devices": devices}
    )
