"""Double booking is impossible: 50 requests racing for one slot, patients booking two places at once,
the database refusing overlaps by itself, and the embedded (SQLite) mode refusing them in the service."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical import scheduling
from clinical.scheduling.exceptions import SlotTaken
from clinical.scheduling.models import PATIENT_OVERLAP, PRACTITIONER_OVERLAP, Appointment
from clinical.scheduling.schemas import AppointmentCreate
from clinical.scheduling.state_machine import AppointmentStatus
from core.db import create_engine
from core.principal import Role
from core.sessions import create_sessionmaker, transaction
from core.settings import Settings
from ownat import migrate
from tests.clinical.scheduling_builders import (
    account,
    appointment_row,
    appointment_type,
    at,
    book,
    future_day,
    patient_record,
    practitioner,
)

RACERS = 50


async def holding(sessions: async_sessionmaker[AsyncSession], practitioner_id: object) -> int:
    async with sessions() as session:
        query = (
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.practitioner_id == practitioner_id,
                Appointment.status.not_in([AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]),
            )
        )
        return int(await session.scalar(query) or 0)


async def test_fifty_requests_race_for_one_slot_and_exactly_one_wins(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.NURSE)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    patients = await patient_record(sessions, RACERS)
    start = at(future_day(), 10)
    # One event loop, one app, the real PostgreSQL pool: the requests interleave at every await.
    responses = await asyncio.gather(
        *(
            book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=start, patient_id=p)
            for p in patients
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: RACERS - 1}
    losers = [r.json() for r in responses if r.status_code == 409]
    assert {(p["code"], p["conflict"]) for p in losers} == {("slot-taken", "practitioner")}
    assert await holding(sessions, doctor.id) == 1


async def test_a_patient_cannot_be_in_two_places_at_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    first, second = await practitioner(sessions), await practitioner(sessions)
    kind = await appointment_type(sessions)
    start = at(future_day(), 14)
    booked = await book(client, headers, practitioner_id=first.id, kind=kind, start_at=start)
    assert booked.status_code == 201, booked.text
    twice = await book(client, headers, practitioner_id=second.id, kind=kind, start_at=start)
    assert twice.status_code == 409
    assert twice.json()["conflict"] == "patient"
    assert twice.json()["conflicting_appointment_id"] == booked.json()["id"]
    assert await holding(sessions, second.id) == 0


async def test_a_patient_racing_two_practitioners_gets_one(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    doctors = [await practitioner(sessions) for _ in range(4)]
    kind = await appointment_type(sessions)
    start = at(future_day(), 15)
    responses = await asyncio.gather(
        *(book(client, headers, practitioner_id=d.id, kind=kind, start_at=start) for d in doctors)
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert {r.json()["conflict"] for r in responses if r.status_code == 409} == {"patient"}


@pytest.mark.parametrize(
    ("same", "constraint"), [("practitioner", PRACTITIONER_OVERLAP), ("patient", PATIENT_OVERLAP)]
)
async def test_the_database_itself_refuses_overlaps(
    sessions: async_sessionmaker[AsyncSession], same: str, constraint: str
) -> None:
    doctors = [await practitioner(sessions), await practitioner(sessions)]
    patients = await patient_record(sessions, 2)
    kind = await appointment_type(sessions, duration_minutes=60)
    start = at(future_day(), 9)
    await appointment_row(
        sessions, patient_id=patients[0], practitioner_id=doctors[0].id, kind=kind, start_at=start
    )
    # Written past the service, half an hour later: overlapping, sharing only the practitioner or the patient.
    other = Appointment(
        patient_id=patients[1] if same == "practitioner" else patients[0],
        practitioner_id=doctors[0].id if same == "practitioner" else doctors[1].id,
        appointment_type_id=kind.id,
        start_at=start + timedelta(minutes=30),
        end_at=start + timedelta(minutes=90),
    )
    with pytest.raises(IntegrityError) as raised:
        async with transaction(sessions) as session:
            session.add(other)
    assert raised.value.orig.diag.constraint_name == constraint  # type: ignore[union-attr]


async def test_released_and_adjacent_times_do_not_conflict(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    doctor = await practitioner(sessions)
    patients = await patient_record(sessions, 3)
    kind = await appointment_type(sessions, duration_minutes=60)
    start = at(future_day(), 9)
    for status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        await appointment_row(
            sessions,
            patient_id=patients[0],
            practitioner_id=doctor.id,
            kind=kind,
            start_at=start,
            status=status,
        )
    await appointment_row(
        sessions, patient_id=patients[1], practitioner_id=doctor.id, kind=kind, start_at=start
    )
    # Half-open ranges: the next appointment may start when this one ends.
    await appointment_row(
        sessions,
        patient_id=patients[2],
        practitioner_id=doctor.id,
        kind=kind,
        start_at=start + timedelta(hours=1),
    )
    assert await holding(sessions, doctor.id) == 2


@pytest.mark.embedded
async def test_embedded_sqlite_refuses_double_booking_in_the_service(
    tmp_path: Path, settings: Settings
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.sqlite3'}"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        sqlite_sessions = create_sessionmaker(engine)
        staff, _ = await account(sqlite_sessions, settings, Role.NURSE)
        doctors = [await practitioner(sqlite_sessions), await practitioner(sqlite_sessions)]
        kind = await appointment_type(sqlite_sessions)
        first, second = await patient_record(sqlite_sessions, 2)
        start = at(future_day(), 9)

        async def book_directly(patient: object, doctor: object) -> Appointment:
            booking = AppointmentCreate.model_validate(
                {
                    "patient_id": patient,
                    "practitioner_id": doctor,
                    "appointment_type": kind.code,
                    "start_at": start,
                }
            )
            async with transaction(sqlite_sessions) as session:
                return await scheduling.book_appointment(
                    session=session, actor=staff.as_principal(), booking=booking
                )

        booked = await book_directly(first, doctors[0].id)
        with pytest.raises(SlotTaken) as practitioner_taken:
            await book_directly(second, doctors[0].id)
        assert practitioner_taken.value.extra["conflict"] == "practitioner"
        with pytest.raises(SlotTaken) as patient_busy:
            await book_directly(first, doctors[1].id)
        assert patient_busy.value.extra["conflicting_appointment_id"] == str(booked.id)
        assert await holding(sqlite_sessions, doctors[0].id) == 1
        assert await holding(sqlite_sessions, doctors[1].id) == 0
    finally:
        await engine.dispose()
