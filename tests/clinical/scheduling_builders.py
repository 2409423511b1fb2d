"""Builders for scheduling tests: practitioners with hours, patients, appointment types, times."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Practitioner, PractitionerSpecialty
from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from clinical.scheduling.models import (
    Appointment,
    AppointmentMode,
    AppointmentType,
    WorkingHours,
)
from clinical.scheduling.state_machine import AppointmentStatus
from core.identity.models import User
from core.identity.tokens import issue_access_token
from core.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings
from tests.builders import bearer, signed_in, unique_email

ZONE = "Europe/Paris"
API = "/api/v1"
# Not an argon2 hash: verification of any password against it fails.
UNUSABLE_PASSWORD_HASH = "!unusable"


def future_day(days_ahead: int = 14, weekday: int | None = None) -> date:
    """A date `days_ahead` days from today, moved forward to the ISO `weekday` if given."""
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    while weekday is not None and day.isoweekday() != weekday:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0, zone: str = ZONE) -> datetime:
    """Local wall-clock time `hour:minute` on `day` in `zone`, as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


async def appointment_type(
    sessions: async_sessionmaker[AsyncSession],
    *,
    duration_minutes: int = 30,
    cancellation_window_hours: int = 24,
    mode: AppointmentMode = AppointmentMode.IN_PERSON,
) -> AppointmentType:
    """A new active appointment type with a code no other test uses."""
    kind = AppointmentType(
        code=f"t-{secrets.token_hex(6)}",
        name="Consultation",
        mode=mode,
        duration_minutes=duration_minutes,
        cancellation_window_hours=cancellation_window_hours,
    )
    async with transaction(sessions) as session:
        session.add(kind)
    return kind


async def practitioner(
    sessions: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID | None = None,
    specialties: Iterable[str] = (),
    hours: tuple[time, time] | None = (time(8), time(18)),
    weekdays: Iterable[int] = range(1, 8),
    zone: str = ZONE,
    valid_from: date | None = None,
) -> Practitioner:
    """A practitioner, by default working 08:00-18:00 every day in `zone` from today on."""
    found = Practitioner(
        user_id=user_id,
        given_name="Ada",
        family_name=f"Test-{secrets.token_hex(3)}",
        specialty_rows=[PractitionerSpecialty(specialty=s) for s in specialties],
    )
    async with transaction(sessions) as session:
        session.add(found)
        await session.flush()
        if hours is not None:
            for weekday in weekdays:
                session.add(
                    WorkingHours(
                        practitioner_id=found.id,
                        weekday=weekday,
                        start_time=hours[0],
                        end_time=hours[1],
                        time_zone=zone,
                        valid_from=valid_from or datetime.now(UTC).date() - timedelta(days=1),
                    )
                )
    return found


async def account(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> tuple[User, dict[str, str]]:
    """A user of `role` (with their patient record, for a patient) and the headers of an access token.

    Written straight to the table with an unusable password hash and given a token directly:
    sign-in is tested elsewhere, and argon2 twice per test would dominate these tests' run time.
    """
    user = User(
        email=unique_email(role.value),
        full_name=f"Test {role.value.title()}",
        role=role,
        patient_id=uuid.uuid4() if role is Role.PATIENT else None,
        password_hash=UNUSABLE_PASSWORD_HASH,
    )
    async with transaction(sessions) as session:
        session.add(user)
        await session.flush()
        if user.patient_id is not None:
            await patients.register_online_patient(
                session=session,
                actor=SYSTEM,
                user_id=user.id,
                patient_id=user.patient_id,
                full_name=user.full_name,
                email=user.email,
            )
    token, _ = issue_access_token(user.as_principal(), settings=settings)
    return user, bearer(token)


async def signed_in_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> tuple[User, dict[str, str]]:
    """A patient account with its patient record, signed in through the real login."""
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    assert user.patient_id is not None
    async with transaction(sessions) as session:
        await patients.register_online_patient(
            session=session,
            actor=SYSTEM,
            user_id=user.id,
            patient_id=user.patient_id,
            full_name=user.full_name,
            email=user.email,
        )
    return user, headers


async def staff_practitioner(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, role: Role = Role.CLINICIAN
) -> tuple[Practitioner, dict[str, str]]:
    """A practitioner who signs in as staff, and their headers."""
    user, headers = await account(sessions, settings, role)
    return await practitioner(sessions, user_id=user.id), headers


async def patient_record(sessions: async_sessionmaker[AsyncSession], count: int = 1) -> list[uuid.UUID]:
    """Patient records registered by staff (no account)."""
    ids = []
    async with transaction(sessions) as session:
        for _ in range(count):
            data = PatientCreate(
                given_name="Pat", family_name=f"Test-{secrets.token_hex(3)}", birth_date=date(1980, 5, 17)
            )
            ids.append((await patients.create_patient(session=session, actor=SYSTEM, data=data)).id)
    return ids


async def appointment_row(
    sessions: async_sessionmaker[AsyncSession],
    *,
    patient_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    kind: AppointmentType,
    start_at: datetime,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
) -> Appointment:
    """An appointment written straight to the table, e.g. one in the past that the API would refuse."""
    found = Appointment(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        appointment_type_id=kind.id,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=kind.duration_minutes),
        status=status,
    )
    async with transaction(sessions) as session:
        session.add(found)
    return found


async def book(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    practitioner_id: uuid.UUID,
    kind: AppointmentType,
    start_at: datetime,
    patient_id: uuid.UUID | None = None,
) -> httpx.Response:
    """POST /appointments."""
    body: dict[str, str] = {
        "practitioner_id": str(practitioner_id),
        "appointment_type": kind.code,
        "start_at": start_at.isoformat(),
    }
    if patient_id is not None:
        body["patient_id"] = str(patient_id)
    return await client.post(f"{API}/appointments", json=body, headers=headers)
