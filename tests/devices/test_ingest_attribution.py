"""Attribution: each reading goes to the patient bound at its own time, and is corrected when bindings change."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from devices.vitals.models import VitalReading
from tests.devices.ingest_helpers import (
    Publisher,
    bind,
    count_readings,
    iso,
    new_patient,
    recent_start,
    register_devices,
    running_worker,
    unique_device_id,
    vitals_payload,
    wait_until,
    worker_config,
)


async def _owners(sessions, device_id: str) -> dict:
    async with sessions() as session:
        rows = await session.execute(
            select(VitalReading.time, VitalReading.patient_id).where(VitalReading.device_id == device_id)
        )
        return {time: patient for time, patient in rows}


async def test_a_message_across_a_change_of_binding_is_split_by_reading_time(
    settings, sessions, mqtt_url
) -> None:
    device = unique_device_id("split")
    rows = await register_devices(sessions, [device])
    first_patient, second_patient = await new_patient(sessions), await new_patient(sessions)
    start = recent_start()
    handover = start + timedelta(seconds=3)
    await bind(sessions, rows[device], first_patient, start - timedelta(minutes=5), end=handover)
    await bind(sessions, rows[device], second_patient, handover)
    readings = [
        {"metric": "hr", "value": 70 + i, "unit": "/min", "time": iso(start + timedelta(seconds=i))}
        for i in range(6)
    ]
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url)),
        Publisher(mqtt_url) as publisher,
    ):
        topic = f"ownat/v1/devices/{device}/vitals"
        await publisher.publish_all([(topic, json.dumps({"v": 1, "seq": 1, "readings": readings}).encode())])
        await wait_until(lambda: _count_is(sessions, device, 6), what="the readings")
    owners = await _owners(sessions, device)
    assert [owners[start + timedelta(seconds=i)] for i in range(6)] == [first_patient] * 3 + [
        second_patient
    ] * 3


async def test_a_binding_recorded_late_reattributes_stored_readings(settings, sessions, mqtt_url) -> None:
    device = unique_device_id("late")
    rows = await register_devices(sessions, [device])
    patient = await new_patient(sessions)
    start = recent_start()
    items = [
        (f"ownat/v1/devices/{device}/vitals", vitals_payload(i, start + timedelta(seconds=i)))
        for i in range(5)
    ]
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url)),
        Publisher(mqtt_url) as publisher,
    ):
        await publisher.publish_all(items)
        await wait_until(lambda: _count_is(sessions, device, 15), what="the unattributed readings")
        assert set((await _owners(sessions, device)).values()) == {None}
        # The nurse records now that the monitor was attached to the patient before those readings.
        await bind(sessions, rows[device], patient, start - timedelta(minutes=1))
        await wait_until(
            lambda: _all_owned_by(sessions, device, patient), what="the readings to be reattributed"
        )


async def _count_is(sessions, device: str, expected: int) -> bool:
    return await count_readings(sessions, [device]) >= expected


async def _all_owned_by(sessions, device: str, patient) -> bool:
    return set((await _owners(sessions, device)).values()) == {patient}
