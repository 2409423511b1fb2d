"""The Bluetooth health devices' driver: notifications in, the edge's messages out.

One `BleDevice` per paired device: its Ownat device id, its Bluetooth address, the measurement
characteristics to subscribe to, and the time zone its clock is set to (the profiles' time stamps
carry none). A `NotificationSource` delivers the notifications: `edge.ble.radio.BleakSource` from
a real adapter, or anything that calls back the same way (a recorded session in a test, a replay).
This module does not import bleak, so it loads on a gateway without Bluetooth.

For each notification: parsed (`edge.ble.characteristics`); its values sent as one vitals
message, at the device's time stamp or else the time of receipt; what the wire format refuses and
notifications that do not parse reported to the platform as a low-severity device event
(`refused_measurement`, `malformed_measurement`) with the reason and the bytes; a sensor that says
it is off the patient, and the link going up or down, as the device's status.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from edge.ble.characteristics import PARSERS, MalformedMeasurement, parse
from edge.driven import DriverAdapter

logger = logging.getLogger(__name__)

OnNotification = Callable[[int, bytes], None]
OnConnection = Callable[[bool], None]


@dataclass(frozen=True, slots=True)
class BleDevice:
    """One paired Bluetooth health device."""

    device_id: str
    address: str
    characteristics: tuple[int, ...] = tuple(PARSERS)
    clock: tzinfo = UTC


class NotificationSource(Protocol):
    """Where a device's notifications come from; runs until cancelled, reconnecting as it needs."""

    async def run(self, on_notification: OnNotification, on_connection: OnConnection) -> None: ...


SourceFactory = Callable[[BleDevice], NotificationSource]


@dataclass
class _DeviceState:
    sensor_off: bool = False
    notes: dict[str, object] = field(default_factory=dict)


class BleMeasurements:
    """Turns one device's notifications into messages on `adapter` (the radio-free part of the driver)."""

    def __init__(self, adapter: DriverAdapter, device: BleDevice) -> None:
        self.adapter = adapter
        self.device = device
        self._state = _DeviceState()

    def connection(self, connected: bool) -> None:
        self.adapter.status(
            self.device.device_id, online=connected, at=datetime.now(UTC), sensor_off=self._state.sensor_off
        )

    def notification(self, characteristic: int, data: bytes, received_at: datetime | None = None) -> None:
        device_id = self.device.device_id
        received_at = received_at or datetime.now(UTC)
        try:
            measurement = parse(characteristic, data, self.device.clock)
        except MalformedMeasurement as error:
            self.adapter.report_refused(
                device_id, "malformed_measurement", [f"{error.reason} (bytes {data.hex(' ')})"], received_at
            )
            return
        if measurement.sensor_contact is not None and measurement.sensor_contact == self._state.sensor_off:
            self._state.sensor_off = not measurement.sensor_contact
            self.adapter.status(device_id, online=True, at=received_at, sensor_off=self._state.sensor_off)
        if measurement.missing:
            logger.info(
                "%s %s without a value: %s", device_id, measurement.characteristic, measurement.missing
            )
        refused = self.adapter.readings(device_id, measurement.values, measurement.time or received_at)
        self.adapter.report_refused(
            device_id,
            "refused_measurement",
            [f"{measurement.characteristic}: {r}" for r in refused],
            received_at,
        )


def ble_adapter(devices: Sequence[BleDevice], sources: SourceFactory) -> DriverAdapter:
    """The gateway adapter of these Bluetooth devices, each listened to through `sources(device)`."""

    async def drive(adapter: DriverAdapter) -> None:
        async with asyncio.TaskGroup() as group:
            for device in devices:
                handler = BleMeasurements(adapter, device)
                group.create_task(
                    sources(device).run(handler.notification, handler.connection),
                    name=f"bluetooth {device.device_id}",
                )

    return DriverAdapter(f"bluetooth ({len(devices)} devices)", drive)
