"""The ingest worker end to end: real Mosquitto, this run's PostgreSQL, the bus."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from core.bus import InProcessBus
from devices.ingest.models import DeviceLastStatus
from devices.vitals.models import VitalReading
from tests.devices.ingest_helpers import (
    GUARD_S,
    METRICS,
    Publisher,
    bind,
    count_readings,
    duplicate_keys,
    iso,
    new_patient,
    recent_start,
    register_devices,
    running_worker,
    stream,
    unique_device_id,
    wait_until,
    worker_config,
)


async def test_readings_are_stored_once_attributed_and_published(settings, sessions, mqtt_url) -> None:
    bound, loose = unique_device_id("bound"), unique_device_id("loose")
    rows = await register_devices(sessions, [bound, loose])
    patient_id = await new_patient(sessions)
    start = recent_start()
    await bind(sessions, rows[bound], patient_id, start - timedelta(hours=1))
    bus = InProcessBus()
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url), bus=bus) as worker,
        bus.subscribe(channels=[f"vitals.patient.{patient_id}", f"vitals.device.{loose}"]) as live,
        Publisher(mqtt_url) as publisher,
    ):
        items = list(stream([bound, loose], messages_per_device=20, start=start))
        await publisher.publish_all(items)
        # Every message once more, as a broker redelivering after a lost acknowledgement would.
        await publisher.publish_all(items[:10])
        expected = 2 * 20 * len(METRICS)
        await wait_until(lambda: _stored(sessions, [bound, loose], expected), what="all readings stored")
        # The redelivered copies may still be in flight once every reading is stored: wait for them.
        await wait_until(
            lambda: _duplicates_counted(worker, 10 * len(METRICS)), what="the redelivered copies refused"
        )
        seen = {bound: 0, loose: 0}
        async with asyncio.timeout(GUARD_S):
            async for message in live:
                seen[message.data["device_id"]] += len(message.data["readings"])
                if seen[bound] >= 20 * len(METRICS) and seen[loose] >= 20 * len(METRICS):
                    break
    assert await duplicate_keys(sessions, [bound, loose]) == 0
    async with sessions() as session:
        owners = {
            device_id: patient
            for device_id, patient in await session.execute(
                select(VitalReading.device_id, VitalReading.patient_id).distinct()
            )
        }
    assert owners[bound] == patient_id and owners[loose] is None
    assert worker.metrics.readings_duplicate._value.get() >= 10 * len(METRICS)


async def test_status_is_kept_and_events_are_published(settings, sessions, mqtt_url) -> None:
    device = unique_device_id("status")
    await register_devices(sessions, [device])
    bus = InProcessBus()
    now = recent_start(5)
    status = {"v": 1, "online": True, "time": iso(now), "battery_pct": 81}
    older = {"v": 1, "online": False, "time": iso(now - timedelta(minutes=1)), "battery_pct": 90}
    event = {"v": 1, "seq": 1, "time": iso(now), "code": "lead_off", "severity": "high"}
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url), bus=bus),
        bus.subscribe(patterns=[f"devices.*.{device}"]) as live,
        Publisher(mqtt_url) as publisher,
    ):
        await publisher.publish_all(
            [
                (f"ownat/v1/devices/{device}/status", json.dumps(status).encode()),
                (f"ownat/v1/devices/{device}/status", json.dumps(older).encode()),
                (f"ownat/v1/devices/{device}/events", json.dumps(event).encode()),
            ]
        )
        channels = []
        async with asyncio.timeout(GUARD_S):
            async for message in live:
                channels.append((message.channel, message.data))
                if len(channels) == 3:
                    break
    events = [data for channel, data in channels if channel == f"devices.event.{device}"]
    assert events == [
        {
            "device_id": device,
            "seq": 1,
            "time": now.isoformat(),
            "code": "lead_off",
            "severity": "high",
            "detail": None,
        }
    ]
    assert sum(channel == f"devices.status.{device}" for channel, _ in channels) == 2
    async with sessions() as session:
        kept = await session.get(DeviceLastStatus, device)
    # The older status arrived later but does not overwrite the newer one.
    assert kept is not None and kept.online is True and kept.battery_pct == 81


async def _stored(sessions, device_ids, expected: int) -> bool:
    return await count_readings(sessions, device_ids) >= expected


async def _duplicates_counted(worker, at_least: int) -> bool:
    return bool(worker.metrics.readings_duplicate._value.get() >= at_least)
