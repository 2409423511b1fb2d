"""The hourly device coverage table: kept by the rollup refresh through corrections, filled by its
migration, and read by the coverage report with the same figures as counting minutes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, utc_now
from core.sessions import create_sessionmaker, transaction
from devices.registry.bindings import BindingSpan
from devices.vitals.corrections import reattribute
from devices.vitals.coverage import device_coverage
from devices.vitals.models import VitalReading, VitalRollup1m
from devices.vitals.rollups import refresh_rollups
from ownat.migrate import upgrade_async
from tests.devices.coverage_scratch import from_scratch, gaps_between, stored
from tests.devices.ingest_helpers import (
    Publisher,
    bind,
    new_patient,
    recent_start,
    register_devices,
    running_worker,
    unique_device_id,
    vitals_payload,
    wait_until,
    worker_config,
)

# Covered minutes after an hour boundary, by hand: silences of 5 minutes (9 -> 15, no gap) and of 6
# (15 -> 22, a gap); a 1-minute silence across 10:00 -> 11:00 (59 -> 61); a gap across 11:00 -> 12:00
# (119 -> 126) and one over three silent hours (126 -> 300).
OFFSETS = [*range(10), 15, 22, *range(55, 60), *range(61, 65), 71, 118, 119, 126, *range(300, 304)]
GAPS = 6  # 15->22, 22->55, 64->71, 71->118, 119->126, 126->300


def _day_before() -> datetime:
    return utc_now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


BASE = _day_before() + timedelta(hours=10)  # recent enough for corrections (at most 7 days back)


def at(offset: int) -> datetime:
    return BASE + timedelta(minutes=offset)


def expected_hours() -> list[tuple]:
    return [  # hour, covered minutes, first, last, gaps inside
        (at(0), 17, at(0), at(59), 2),
        (at(60), 7, at(61), at(119), 2),
        (at(120), 1, at(126), at(126), 0),
        (at(300), 4, at(300), at(303), 0),
    ]


@pytest.fixture(scope="module", params=["postgresql", pytest.param("sqlite", marks=pytest.mark.embedded)])
async def store(
    request: pytest.FixtureRequest, databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "postgresql":
        url = databases.create("coverage_hours")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('coverage') / 'ownat.sqlite3'}"
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _write_readings(sessions, device_id: str, patient_id: uuid.UUID) -> None:
    rows = [
        {"time": at(offset) + timedelta(seconds=10), "device_id": device_id, "patient_id": patient_id,
         "metric": metric, "value": 70.0, "unit": "/min"}
        for offset in OFFSETS
        for metric in (["8867-4", "59408-5"] if offset < 30 else ["8867-4"])
    ]  # fmt: skip
    async with transaction(sessions) as session:
        await session.execute(insert(VitalReading), rows)


async def _refresh(sessions, since: datetime, until: datetime, device_id: str | None = None) -> None:
    async with transaction(sessions) as session:
        await refresh_rollups(
            session, since=since, until=until, device_ids=[device_id] if device_id is not None else None
        )


async def _hours(sessions, device_id: str) -> tuple[list, list]:
    async with sessions() as session:
        return await stored(session, device_id), await from_scratch(session, device_id)


async def test_refreshes_across_hour_boundaries_keep_whole_hours(store) -> None:
    device_id = unique_device_id("hours")
    await _write_readings(store, device_id, uuid.uuid4())
    # The first refresh stops inside 11:00; the next starts there, so 11:00 is summarised twice.
    await _refresh(store, at(0), at(90), device_id)
    table, scratch = await _hours(store, device_id)
    assert table == scratch and table[1] == (at(60), 5, at(61), at(71), 1)
    await _refresh(store, at(90), at(360), device_id)
    await _refresh(store, at(0), at(360))  # every device, as the worker's recent refresh does
    assert await _hours(store, device_id) == (expected_hours(), expected_hours())


async def test_the_report_counts_minutes_and_gaps_as_the_minutes_do(store) -> None:
    device_id = unique_device_id("report")
    await _write_readings(store, device_id, uuid.uuid4())
    await _refresh(store, at(0), at(360), device_id)
    async with transaction(store) as session:
        report = await device_coverage(
            session=session, start=BASE.date(), end=BASE.date() + timedelta(days=1)
        )
        minutes = list(
            await session.scalars(select(VitalRollup1m.bucket).where(VitalRollup1m.device_id == device_id))
        )
    (row,) = [r for r in report.rows if r[0] == device_id]
    assert (row[3], row[5]) == (len(set(minutes)), gaps_between(minutes)) == (len(OFFSETS), GAPS)


async def test_corrections_move_minutes_between_patients_and_drop_emptied_hours(store) -> None:
    device_id, first, second = unique_device_id("moved"), uuid.uuid4(), uuid.uuid4()
    await _write_readings(store, device_id, first)
    await _refresh(store, at(0), at(360), device_id)

    # From 11:00 the readings belong to another patient: the same minutes stay covered.
    spans = [_span(device_id, first, at(-60), at(60)), _span(device_id, second, at(60), None)]
    await _reattribute(store, device_id, at(60), spans)
    async with store() as session:
        owners = set(
            await session.scalars(
                select(VitalRollup1m.patient_id).where(
                    VitalRollup1m.device_id == device_id, VitalRollup1m.bucket >= at(60)
                )
            )
        )
    assert owners == {second}
    assert await _hours(store, device_id) == (expected_hours(), expected_hours())

    # The binding really ended at 11:40: later readings belong to nobody and their hours go.
    await _reattribute(store, device_id, at(60), [_span(device_id, first, at(-60), at(100))])
    table, scratch = await _hours(store, device_id)
    assert table == scratch == [expected_hours()[0], (at(60), 5, at(61), at(71), 1)]


def _span(device_id: str, patient_id: uuid.UUID, start: datetime, end: datetime | None) -> BindingSpan:
    return BindingSpan(
        device_id=device_id, patient_id=patient_id, bed_id=None, ward_id=None, start=start, end=end
    )


async def _reattribute(sessions, device_id: str, since: datetime, spans: list[BindingSpan]) -> None:
    async with transaction(sessions) as session:
        used = await reattribute(session, device_id=device_id, since=since, spans=spans)
        await refresh_rollups(session, since=used, device_ids=[device_id])


@pytest.mark.parametrize("dialect", ["postgresql", pytest.param("sqlite", marks=pytest.mark.embedded)])
async def test_the_migration_fills_the_table_from_stored_rollups(dialect, databases, tmp_path: Path) -> None:
    if dialect == "postgresql":
        url = databases.create("coverage_backfill")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'backfill.sqlite3'}"
    await upgrade_async(url, "0013_notifications")
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    device_id, other = unique_device_id("backfill"), unique_device_id("backfill")
    rows = [
        {"bucket": at(offset), "patient_id": patient, "device_id": device, "metric": metric,
         "min_value": 70.0, "max_value": 72.0, "sum_value": 142.0, "count": 2}
        for device, patient in ((device_id, uuid.uuid4()), (other, uuid.uuid4()))
        for offset in (OFFSETS if device == device_id else OFFSETS[:12])
        for metric in ("8867-4", "59408-5")
    ]  # fmt: skip
    try:
        async with transaction(sessions) as session:
            await session.execute(insert(VitalRollup1m), rows)
        await upgrade_async(url)
        assert await _hours(sessions, device_id) == (expected_hours(), expected_hours())
        table, scratch = await _hours(sessions, other)
        assert table == scratch == [(at(0), 12, at(0), at(22), 1)]
    finally:
        await engine.dispose()


async def test_the_ingest_worker_summarises_hours_after_a_late_binding(settings, sessions, mqtt_url) -> None:
    device_id = unique_device_id("worker")
    rows = await register_devices(sessions, [device_id])
    patient = await new_patient(sessions)
    # Fifteen minutes back, so that even the last reading (ten minutes in) is past when the worker
    # refreshes: a refresh covers minutes up to now, and a reading still ahead of the clock would wait
    # for the next change of its device.
    start = recent_start(900).replace(second=0)
    # Minutes 0-2 and 9-10 (one silence of six minutes), in one hour or across two.
    moments = [start + timedelta(minutes=m, seconds=5) for m in (0, 1, 2, 9, 10)]
    topic = f"ownat/v1/devices/{device_id}/vitals"
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url)),
        Publisher(mqtt_url) as publisher,
    ):
        await publisher.publish_all([(topic, vitals_payload(i, t)) for i, t in enumerate(moments)])
        await wait_until(lambda: _readings_stored(sessions, device_id, len(moments)), what="the readings")
        assert await _hours(sessions, device_id) == ([], [])  # unattributed readings are not rolled up
        await bind(sessions, rows[device_id], patient, start - timedelta(minutes=1))
        await wait_until(lambda: _summarised(sessions, device_id, 5), what="the hours to be summarised")
    table, _ = await _hours(sessions, device_id)
    assert (table[0][2], table[-1][3]) == (start, start + timedelta(minutes=10))


async def _readings_stored(sessions, device_id: str, expected: int) -> bool:
    async with sessions() as session:
        times = await session.scalars(select(VitalReading.time).where(VitalReading.device_id == device_id))
        return len(set(times)) >= expected


async def _summarised(sessions, device_id: str, minutes: int) -> bool:
    table, scratch = await _hours(sessions, device_id)
    return table == scratch and sum(row[1] for row in table) == minutes
