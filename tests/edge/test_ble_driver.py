"""The Bluetooth driver without a radio: notifications from a recorded session, through to the platform.

The radio is the one part replaced: `Recorded` plays notifications as bleak would deliver them
(characteristic, bytes). Everything after it is the real driver, gateway, broker, ingest and bus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from devices.ingest.models import IngestDeadLetter
from devices.protocol import EventMessage, StatusMessage, VitalsMessage
from edge.ble.driver import BleDevice, OnConnection, OnNotification, ble_adapter
from edge.driven import DriverAdapter
from tests.devices.ingest_helpers import (
    count_readings,
    duplicate_keys,
    register_devices,
    unique_device_id,
    wait_until,
)
from tests.edge.foreign_helpers import through_the_platform

BERLIN = ZoneInfo("Europe/Berlin")


class Recorded:
    """A device that connects, sends these notifications, and stays connected until cancelled."""

    def __init__(self, notifications: Sequence[tuple[int, bytes]]) -> None:
        self.notifications = notifications

    async def run(self, on_notification: OnNotification, on_connection: OnConnection) -> None:
        on_connection(True)
        for characteristic, data in self.notifications:
            on_notification(characteristic, data)
        await asyncio.Event().wait()


def date_time(moment: datetime, zone: ZoneInfo) -> bytes:
    """A Date Time field (year uint16, month, day, hours, minutes, seconds) of the device's wall clock."""
    local = moment.astimezone(zone)
    return local.year.to_bytes(2, "little") + bytes(
        [local.month, local.day, local.hour, local.minute, local.second]
    )


async def collect(adapter: DriverAdapter, count: int, next_seq: dict[str, int] | None = None) -> list:
    messages = []
    async with asyncio.timeout(10):
        async for message in adapter.messages(next_seq or {}):
            messages.append(message)
            if len(messages) == count:
                break
    return messages


async def test_notifications_become_numbered_messages_and_refusals_become_events() -> None:
    device = BleDevice("cuff-1", "AA:BB:CC:DD:EE:01", clock=BERLIN)
    taken = datetime(2026, 12, 7, 8, 30, 15, tzinfo=UTC)
    recording = [
        # Blood pressure, flags 0x02 (mmHg, time stamp): 120 / 80 / mean 93, as SFLOAT with exponent 0.
        (0x2A35, bytes.fromhex("02780050005D00") + date_time(taken, BERLIN)),
        # Heart rate flags 0x01 (uint16): 400 = 0x0190 -> 90 01, beyond the 350/min the platform accepts.
        (0x2A37, bytes.fromhex("019001")),
        # A PLX spot-check cut short: flags and one byte.
        (0x2A5E, bytes.fromhex("0061")),
        # PLX spot-check, flags 0x04 (sensor status): bit 15 "sensor disconnected" = 00 80 00.
        (0x2A5E, bytes.fromhex("0461004000008000")),
    ]
    adapter = ble_adapter([device], lambda _device: Recorded(recording))
    messages = await collect(adapter, 5, {"cuff-1": 41})
    assert [m.message.seq for m in messages] == [41, 42, 43, 44, 45]
    online, pressure, too_fast, malformed, sensor_off = (m.message for m in messages)
    assert isinstance(online, StatusMessage) and online.online
    assert isinstance(pressure, VitalsMessage)
    assert [(r.metric, r.value, r.time) for r in pressure.readings] == [
        ("8480-6", 120.0, taken),
        ("8462-4", 80.0, taken),
    ]
    assert isinstance(too_fast, EventMessage) and too_fast.code == "refused_measurement"
    assert "physiologically impossible" in (too_fast.detail or "")
    assert isinstance(malformed, EventMessage) and malformed.code == "malformed_measurement"
    assert "end before the SpO2" in (malformed.detail or "") and "(bytes 00 61)" in (malformed.detail or "")
    assert isinstance(sensor_off, StatusMessage) and sensor_off.sensor_off
    assert adapter.refused == 2


async def test_a_bluetooth_reading_is_stored_once_and_on_the_dashboard(
    settings, sessions, mqtt_url, tmp_path: Path
) -> None:
    device_id = unique_device_id("ble")
    await register_devices(sessions, [device_id])
    taken = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)
    recording = [
        # Temperature, flags 0x02 (Celsius, time stamp): 38.2 = mantissa 382 (0x00017E), exponent -1
        # -> 7E 01 00 FF.
        (0x2A1C, bytes.fromhex("027E0100FF") + date_time(taken, BERLIN)),
        # Weight, flags 0x00 (SI): 70.5 kg / 0.005 = 14100 = 0x3714 -> 14 37 (time of receipt).
        (0x2A9D, bytes.fromhex("001437")),
        # Garbage: a temperature of 3 bytes.
        (0x2A1C, bytes.fromhex("027E01")),
        # A scale whose clock was never set right: 70.5 kg stamped 2020-01-01 00:00:00 (E4 07 01 01
        # 00 00 00), years ago. The platform keeps it as a dead letter with the reason.
        (0x2A9D, bytes.fromhex("021437E4070101000000")),
    ]
    adapter = ble_adapter(
        [BleDevice(device_id, "AA:BB:CC:DD:EE:02", clock=BERLIN)], lambda _d: Recorded(recording)
    )
    async with through_the_platform(settings, mqtt_url, tmp_path, adapter, device_id) as (gateway, dashboard):
        await dashboard.wait_for(
            lambda: (
                len(set(dashboard.readings(device_id))) == 2 and dashboard.on(f"devices.event.{device_id}")
            ),
            what="the readings and the refusal on the dashboard",
        )
        async with asyncio.timeout(30):
            await gateway.counters.wait_until(lambda c: c.pending == 0)
    # A message sent again before its acknowledgement came shows again: compare what was shown.
    assert set(dashboard.readings(device_id)) == {("8310-5", 38.2), ("29463-7", 70.5)}
    [event] = {e["seq"]: e for e in dashboard.on(f"devices.event.{device_id}")}.values()
    assert event["code"] == "malformed_measurement" and "end before the temperature" in event["detail"]
    await wait_until(lambda: _stored(sessions, device_id, 2), what="two readings stored")
    assert await duplicate_keys(sessions, [device_id]) == 0
    async with sessions() as session:
        letters = list(
            await session.scalars(select(IngestDeadLetter).where(IngestDeadLetter.device_id == device_id))
        )
    assert {letter.reason_code for letter in letters} == {"too-old"}
    # 2020-01-01 00:00 on a Berlin clock is 2019-12-31 23:00 UTC.
    assert "2019-12-31T23:00:00+00:00 is too old" in letters[0].reason


async def _stored(sessions, device_id: str, expected: int) -> bool:
    return await count_readings(sessions, [device_id]) == expected
