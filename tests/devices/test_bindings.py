"""Bindings over time: what ingestion reads to attribute readings, and no overlap even under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine
from core.errors import Conflict
from core.principal import SYSTEM
from core.sessions import create_sessionmaker, transaction
from devices.registry import binding_service, lifecycle
from devices.registry.bindings import BindingSpan, known_device_ids, load_binding_spans, span_at
from devices.registry.models import DeviceBinding
from devices.registry.schemas import BindingCreate, BindingEnd
from ownat import migrate
from tests.clinical.builders import create_patient, create_ward_with_beds
from tests.devices.registry_builders import BUILDER_NURSE, bind_device, register_device, revoke

GUARD_S = 10.0  # a guard against hanging, never a timing assertion
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_spans_come_back_per_device_in_time_order(sessions: async_sessionmaker[AsyncSession]) -> None:
    first, second = await create_patient(sessions), await create_patient(sessions)
    ward, [bed] = await create_ward_with_beds(sessions, beds=1)
    monitor, oximeter = await register_device(sessions), await register_device(sessions)
    # Handed over from one patient to the next at the same instant: [T0, T0+2h) then [T0+2h, open).
    await bind_device(sessions, monitor.id, patient_id=second.id, start_at=T0 + 2 * HOUR)
    async with transaction(sessions) as session:
        session.add(
            DeviceBinding(
                device_uuid=monitor.id,
                patient_id=first.id,
                bed_id=bed.id,
                ward_id=ward.id,
                start_at=T0,
                end_at=T0 + 2 * HOUR,
            )
        )
    await bind_device(sessions, oximeter.id, patient_id=first.id, start_at=T0 + HOUR)

    async with sessions() as session:
        spans = await load_binding_spans(session, device_ids=[monitor.device_id, oximeter.device_id])
        only_monitor = await load_binding_spans(session, device_ids={monitor.device_id})
        recent = await load_binding_spans(session, device_ids=[monitor.device_id], since=T0 + 3 * HOUR)
        everything = await load_binding_spans(session)
        nothing = await load_binding_spans(session, device_ids=[])

    expected_monitor = [
        BindingSpan(monitor.device_id, first.id, bed.id, ward.id, T0, T0 + 2 * HOUR),
        BindingSpan(monitor.device_id, second.id, None, None, T0 + 2 * HOUR, None),
    ]
    expected_oximeter = [BindingSpan(oximeter.device_id, first.id, None, None, T0 + HOUR, None)]
    assert spans == sorted(expected_monitor + expected_oximeter, key=lambda s: (s.device_id, s.start))
    assert only_monitor == expected_monitor
    assert recent == expected_monitor[1:]
    assert [s for s in everything if s.device_id in (monitor.device_id, oximeter.device_id)] == spans
    assert nothing == []


async def test_a_reading_goes_to_whoever_was_bound_at_its_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await create_patient(sessions), await create_patient(sessions)
    device = await register_device(sessions)
    binding = await bind_device(sessions, device.id, patient_id=first.id, start_at=T0)
    async with transaction(sessions) as session:
        await binding_service.end_binding(
            session=session,
            actor=BUILDER_NURSE,
            binding_id=binding.id,
            end=BindingEnd(end_at=T0 + HOUR),
        )
    # A gap of an hour with nobody bound, then the second patient.
    await bind_device(sessions, device.id, patient_id=second.id, start_at=T0 + 2 * HOUR)
    async with sessions() as session:
        spans = await load_binding_spans(session, device_ids=[device.device_id])

    def patient_at(moment: datetime) -> uuid.UUID | None:
        span = span_at(spans, moment)
        return span.patient_id if span else None

    assert patient_at(T0 - timedelta(seconds=1)) is None
    assert patient_at(T0) == first.id
    assert patient_at(T0 + HOUR - timedelta(microseconds=1)) == first.id
    assert patient_at(T0 + HOUR) is None  # the end is exclusive
    assert patient_at(T0 + 90 * timedelta(minutes=1)) is None
    assert patient_at(T0 + 2 * HOUR) == second.id
    assert patient_at(T0 + 1000 * HOUR) == second.id


async def test_only_active_devices_are_known(sessions: async_sessionmaker[AsyncSession]) -> None:
    active, revoked, deactivated = [await register_device(sessions) for _ in range(3)]
    await revoke(sessions, revoked.id)
    async with transaction(sessions) as session:
        await lifecycle.deactivate_device(
            session=session, actor=SYSTEM, device_uuid=deactivated.id, reason="repair", broker=None
        )
    async with sessions() as session:
        known = await known_device_ids(session)
    assert active.device_id in known
    assert revoked.device_id not in known and deactivated.device_id not in known


async def _wait_until_blocked_on_a_lock(sessions: async_sessionmaker[AsyncSession]) -> None:
    # A transaction blocked in the database is not an event we can await; look until it shows up.
    async with asyncio.timeout(GUARD_S):
        while True:
            async with sessions() as session:
                waiting = await session.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if waiting:
                return
            await asyncio.sleep(0.01)


async def test_two_overlapping_bindings_at_once_one_wins_on_postgresql(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await create_patient(sessions), await create_patient(sessions)
    device = await register_device(sessions)

    async def bind(session: AsyncSession, patient_id: uuid.UUID) -> None:
        await binding_service.bind_device(
            session=session,
            actor=BUILDER_NURSE,
            device_uuid=device.id,
            binding=BindingCreate(patient_id=patient_id, start_at=T0),
        )

    async with sessions() as winner:
        # The winner has inserted but not committed: the other request's check cannot see its row yet.
        await bind(winner, first.id)

        async def loser() -> None:
            async with transaction(sessions) as session:
                await bind(session, second.id)

        attempt = asyncio.create_task(loser())
        await _wait_until_blocked_on_a_lock(sessions)
        await winner.commit()
        with pytest.raises(Conflict) as refused:
            await attempt
    # Refused by the exclusion constraint itself, not by the service's check.
    assert isinstance(refused.value.__cause__, IntegrityError)
    async with sessions() as session:
        spans = await load_binding_spans(session, device_ids=[device.device_id])
    assert [span.patient_id for span in spans] == [first.id]


async def test_the_database_refuses_overlapping_rows_written_directly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient = await create_patient(sessions)
    device = await register_device(sessions)
    await bind_device(sessions, device.id, patient_id=patient.id, start_at=T0)
    with pytest.raises(IntegrityError, match="ex_device_bindings_device_overlap"):
        async with transaction(sessions) as session:
            session.add(
                DeviceBinding(
                    device_uuid=device.id, patient_id=patient.id, start_at=T0 - HOUR, end_at=T0 + HOUR
                )
            )


@pytest.mark.embedded
async def test_embedded_sqlite_refuses_overlapping_bindings(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.sqlite3'}"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    embedded = create_sessionmaker(engine)
    try:
        patient = await create_patient(embedded)
        device = await register_device(embedded)
        await bind_device(embedded, device.id, patient_id=patient.id, start_at=T0)
        with pytest.raises(Conflict):
            await bind_device(embedded, device.id, patient_id=patient.id, start_at=T0 + HOUR)
        async with embedded() as session:
            spans = await load_binding_spans(session, device_ids=[device.device_id])
            assert [(s.patient_id, s.start, s.end) for s in spans] == [(patient.id, T0, None)]
            assert device.device_id in await known_device_ids(session)
    finally:
        await engine.dispose()
