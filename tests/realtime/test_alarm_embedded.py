"""The embedded mode: the engine's raise, delay, NEWS2, technical and escalation paths on SQLite, and publishing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine
from core.resources import Resources
from core.sessions import create_sessionmaker, transaction
from ownat.migrate import upgrade_async
from realtime.alarms.defaults import HR, SPO2
from realtime.alarms.escalation import escalate_overdue
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.realtime.alarm_builders import R, evaluate_one, evaluate_vitals_message

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def sqlite_sessions(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    path: Path = tmp_path_factory.mktemp("alarms") / "ownat.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    database = create_engine(url)
    try:
        yield create_sessionmaker(database)
    finally:
        await database.dispose()


async def test_the_engine_raises_once_and_escalates_on_sqlite(sqlite_sessions) -> None:
    patient = await create_patient(sqlite_sessions)
    results = []
    for second, value in [(0, 35), (5, 34), (10, 33), (12, 33)]:
        async with transaction(sqlite_sessions) as session:
            results.append(
                await evaluate_one(
                    session,
                    patient_id=patient.id,
                    readings=[R(HR, value, T0 + timedelta(seconds=second))],
                    now=T0 + timedelta(seconds=second),
                )
            )
    assert [[c.change for c in changes] for changes in results] == [[], [], ["raised"], []]
    async with transaction(sqlite_sessions) as session:
        escalated = await escalate_overdue(session, now=T0 + timedelta(minutes=5), after_s=120)
    assert [c.alarm.condition_key for c in escalated] == [f"threshold:{HR}:low"]
    async with transaction(sqlite_sessions) as session:
        resolved = await evaluate_one(
            session,
            patient_id=patient.id,
            readings=[R(HR, 70, T0 + timedelta(minutes=6))],
            now=T0 + timedelta(minutes=6),
        )
    assert resolved == []  # back in range: the alarm ends once its condition has been gone 30 s
    async with transaction(sqlite_sessions) as session:
        ended = await evaluate_one(session, patient_id=patient.id, readings=[], now=T0 + timedelta(minutes=7))
    # A high alarm nobody acknowledged latches: it stays, showing that its condition ended.
    assert [(c.change, c.alarm.condition_ended_at) for c in ended] == [("updated", T0 + timedelta(minutes=6))]


async def test_a_vitals_message_is_evaluated_and_its_alarm_published_to_the_ward(
    resources: Resources, sessions
) -> None:
    patient = await create_patient(sessions)
    ward, (bed, _) = await create_ward_with_beds(sessions)
    now = datetime.now(UTC)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id, start_at=now - timedelta(hours=1))

    def message(at: datetime) -> dict[str, object]:
        # The ingest worker's shape, with ward and bed left for the engine to find from the admission.
        reading = {"metric": SPO2, "value": 80, "unit": "%", "time": at.isoformat()}
        return {
            "device_id": "t-x",
            "patient_id": str(patient.id),
            "bed_id": None,
            "ward_id": None,
            "readings": [reading],
        }

    earlier = now - timedelta(seconds=20)  # SpO2's condition delay
    async with resources.bus.subscribe(channels=[f"alarms.ward.{ward.id}"]) as subscription:
        assert await evaluate_vitals_message(resources, message(earlier), now=earlier) == []
        changes = await evaluate_vitals_message(resources, message(now), now=now)
        delivered = await anext(aiter(subscription))
    (raised,) = [c for c in changes if c.alarm.kind == "threshold"]
    assert (raised.alarm.bed_id, raised.alarm.ward_id) == (bed.id, ward.id)
    assert delivered.data["type"] == "alarm"
    assert (delivered.data["change"], delivered.data["alarm"]["id"]) == ("raised", str(raised.alarm.id))
