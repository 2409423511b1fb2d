"""Appointment types, working hours and schedule exceptions over HTTP: rules, refusals, roles, audit."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import WorkingHours
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.scheduling_builders import (
    API,
    account,
    appointment_type,
    at,
    book,
    future_day,
    patient_record,
    practitioner,
    staff_practitioner,
)


def hours_url(practitioner_id: uuid.UUID) -> str:
    return f"{API}/practitioners/{practitioner_id}/working-hours"


def exceptions_url(practitioner_id: uuid.UUID) -> str:
    return f"{API}/practitioners/{practitioner_id}/schedule-exceptions"


def block(weekday: int = 1, start: str = "09:00", end: str = "12:00", **extra: object) -> dict[str, object]:
    return {
        "weekday": weekday,
        "start_time": start,
        "end_time": end,
        "time_zone": "Europe/Paris",
        "valid_from": "2026-01-01",
        **extra,
    }


async def hours_count(sessions: async_sessionmaker[AsyncSession], practitioner_id: uuid.UUID) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(WorkingHours)
                .where(WorkingHours.practitioner_id == practitioner_id)
            )
            or 0
        )


# --- appointment types -------------------------------------------------------------------------


async def test_admin_manages_appointment_types(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin, headers = await account(sessions, settings, Role.ADMIN)
    code = f"video-{secrets.token_hex(4)}"
    body = {
        "code": code,
        "name": "Video follow-up",
        "mode": "video",
        "duration_minutes": 15,
        "cancellation_window_hours": 12,
    }
    created = await client.post(f"{API}/appointment-types", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["mode"] == "video" and created.json()["active"] is True

    again = await client.post(f"{API}/appointment-types", json=body, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "duplicate-code"

    type_id = created.json()["id"]
    retired = await client.patch(
        f"{API}/appointment-types/{type_id}", json={"active": False}, headers=headers
    )
    assert retired.status_code == 200 and retired.json()["active"] is False
    listed = await client.get(f"{API}/appointment-types", headers=headers)
    assert code not in {t["code"] for t in listed.json()}
    listed = await client.get(f"{API}/appointment-types", params={"include_inactive": True}, headers=headers)
    assert code in {t["code"] for t in listed.json()}
    async with sessions() as session:
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.actor_id == admin.id, AuditEvent.resource_type == "appointment_type"
                )
            )
        )
    assert {"create", "update", "list"} <= actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "telepathy"}, "mode"),
        ({"duration_minutes": 2}, "duration_minutes"),
        ({"code": "Has Spaces"}, "code"),
    ],
)
async def test_bad_appointment_types_are_422(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    body: dict[str, object],
    field: str,
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    full = {
        "code": f"c-{secrets.token_hex(4)}",
        "name": "X",
        "mode": "in_person",
        "duration_minutes": 30,
        **body,
    }
    response = await client.post(f"{API}/appointment-types", json=full, headers=headers)
    assert response.status_code == 422
    assert any(e["pointer"].endswith(field) for e in response.json()["errors"])


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_only_admins_change_appointment_types(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    _, headers = await account(sessions, settings, role)
    body = {"code": f"c-{secrets.token_hex(4)}", "name": "X", "mode": "in_person", "duration_minutes": 30}
    assert (await client.post(f"{API}/appointment-types", json=body, headers=headers)).status_code == 403
    kind = await appointment_type(sessions)
    patch = await client.patch(f"{API}/appointment-types/{kind.id}", json={"active": False}, headers=headers)
    assert patch.status_code == 403
    assert (await client.get(f"{API}/appointment-types", headers=headers)).status_code == 200


async def test_appointment_types_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/appointment-types")).status_code == 401
    assert (await client.post(f"{API}/appointment-types", json={})).status_code == 401


# --- working hours -----------------------------------------------------------------------------


async def test_practitioner_manages_their_own_hours(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    doctor, headers = await staff_practitioner(sessions, settings)
    url = hours_url(doctor.id)
    created = await client.post(
        url, json=block(weekday=1, start="22:00", end="02:00", valid_to="2026-12-31"), headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["end_time"] == "02:00:00"
    listed = await client.get(url, headers=headers)
    assert created.json() in listed.json()  # besides the builder's default hours
    removed = await client.delete(f"{url}/{created.json()['id']}", headers=headers)
    assert removed.status_code == 204
    assert created.json() not in (await client.get(url, headers=headers)).json()


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        (block(1, "09:00", "12:00"), block(1, "11:30", "13:00")),
        (block(7, "22:00", "02:00"), block(1, "01:00", "03:00")),
        (block(3, "09:00", "12:00"), block(3, "08:00", "17:00", valid_from="2026-06-01")),
    ],
)
async def test_overlapping_hours_are_refused_naming_the_overlap(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    existing: dict[str, object],
    new: dict[str, object],
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions, hours=None)
    first = await client.post(hours_url(doctor.id), json=existing, headers=headers)
    assert first.status_code == 201, first.text
    refused = await client.post(hours_url(doctor.id), json=new, headers=headers)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "overlapping-schedule" and problem["conflicting_id"] == first.json()["id"]
    assert first.json()["id"] in problem["detail"]
    assert await hours_count(sessions, doctor.id) == 1  # nothing half-written


async def test_adjacent_and_successive_hours_are_accepted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions, hours=None)
    for body in (
        block(1, "09:00", "12:00", valid_to="2026-05-31"),
        block(1, "12:00", "17:00", valid_to="2026-05-31"),
        block(1, "08:00", "18:00", valid_from="2026-06-01"),
    ):
        response = await client.post(hours_url(doctor.id), json=body, headers=headers)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (block(time_zone="Mars/Olympus"), 422, "validation-failed"),
        (block(valid_from="2026-02-30"), 422, "validation-failed"),
        (block(start="09:00:30"), 422, "validation-failed"),
        (block(weekday=8), 422, "validation-failed"),
        (block(start="09:00", end="09:00"), 422, "validation-failed"),
        (block(valid_to="2025-12-31"), 422, "invalid-range"),
        (block(weekday=2, time_zone="Asia/Tokyo"), 422, "invalid-time-zone"),
    ],
)
async def test_bad_hours_are_refused(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions, hours=None)
    assert (
        await client.post(hours_url(doctor.id), json=block(weekday=1), headers=headers)
    ).status_code == 201
    response = await client.post(hours_url(doctor.id), json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await hours_count(sessions, doctor.id) == 1


async def test_hours_with_future_appointments_cannot_be_removed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions, hours=None)
    kind = await appointment_type(sessions)
    day = future_day()
    created = await client.post(
        hours_url(doctor.id), json=block(day.isoweekday(), "08:00", "12:00"), headers=headers
    )
    [patient_id] = await patient_record(sessions)
    booked = await book(
        client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 9), patient_id=patient_id
    )
    assert booked.status_code == 201, booked.text
    refused = await client.delete(f"{hours_url(doctor.id)}/{created.json()['id']}", headers=headers)
    assert refused.status_code == 409 and refused.json()["appointment_ids"] == [booked.json()["id"]]


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE])
async def test_other_staff_cannot_change_a_practitioners_schedule(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    user, headers = await account(sessions, settings, role)
    doctor = await practitioner(sessions)
    assert (await client.get(hours_url(doctor.id), headers=headers)).status_code == 200
    assert (await client.post(hours_url(doctor.id), json=block(), headers=headers)).status_code == 403
    leave = {
        "start_at": at(future_day(), 9).isoformat(),
        "end_at": at(future_day(), 17).isoformat(),
        "reason": "leave",
    }
    assert (await client.post(exceptions_url(doctor.id), json=leave, headers=headers)).status_code == 403
    async with sessions() as session:
        denied = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.actor_id == user.id,
                AuditEvent.outcome == "denied",
                AuditEvent.resource_type == "schedule",
            )
        )
    assert denied == 2


async def test_patients_cannot_see_or_change_schedules(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    for method, url, body in (
        ("GET", hours_url(doctor.id), None),
        ("POST", hours_url(doctor.id), block()),
        ("DELETE", f"{hours_url(doctor.id)}/{uuid.uuid4()}", None),
        ("GET", exceptions_url(doctor.id), None),
        ("POST", exceptions_url(doctor.id), {}),
        ("DELETE", f"{exceptions_url(doctor.id)}/{uuid.uuid4()}", None),
    ):
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, url)
        assert (await client.request(method, url, json=body)).status_code == 401


async def test_unknown_practitioner_is_422(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    response = await client.post(hours_url(uuid.uuid4()), json=block(), headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "unknown-practitioner"


# --- exceptions --------------------------------------------------------------------------------


async def test_leave_blocks_slots_and_bookings_until_removed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    doctor, headers = await staff_practitioner(sessions, settings)
    kind = await appointment_type(sessions, duration_minutes=60)
    day = future_day()
    leave = {
        "start_at": at(day, 10).isoformat(),
        "end_at": at(day, 12).isoformat(),
        "reason": "leave",
        "note": "training",
    }
    created = await client.post(exceptions_url(doctor.id), json=leave, headers=headers)
    assert created.status_code == 201, created.text
    params = {
        "appointment_type": kind.code,
        "practitioner_id": str(doctor.id),
        "start": at(day, 8).isoformat(),
        "end": at(day, 13).isoformat(),
    }
    slots = (await client.get(f"{API}/slots", params=params, headers=headers)).json()["items"]
    assert [s["local_start"] for s in slots] == [
        at(day, 8).isoformat(),
        at(day, 9).isoformat(),
        at(day, 12).isoformat(),
    ]

    [patient_id] = await patient_record(sessions)
    refused = await book(
        client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 10), patient_id=patient_id
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "practitioner-unavailable" and refused.json()["reason"] == "leave"

    listed = await client.get(
        exceptions_url(doctor.id), params={"start": at(day, 0).isoformat()}, headers=headers
    )
    assert [e["id"] for e in listed.json()] == [created.json()["id"]]
    removed = await client.delete(f"{exceptions_url(doctor.id)}/{created.json()['id']}", headers=headers)
    assert removed.status_code == 204
    again = await book(
        client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 10), patient_id=patient_id
    )
    assert again.status_code == 201, again.text


async def test_leave_over_booked_appointments_is_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    day = future_day()
    [patient_id] = await patient_record(sessions)
    booked = await book(
        client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 9), patient_id=patient_id
    )
    leave = {
        "start_at": at(day, 0).isoformat(),
        "end_at": at(day + timedelta(days=1), 0).isoformat(),
        "reason": "holiday",
    }
    refused = await client.post(exceptions_url(doctor.id), json=leave, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "appointments-affected"
    assert refused.json()["appointment_ids"] == [booked.json()["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {"start_at": "2030-01-02T10:00:00+01:00", "end_at": "2030-01-02T09:00:00+01:00", "reason": "leave"},
        {"start_at": "2030-01-02T10:00:00", "end_at": "2030-01-02T12:00:00", "reason": "leave"},
        {"start_at": "2030-01-02T10:00:00Z", "end_at": "2030-01-02T12:00:00Z", "reason": "sunbathing"},
    ],
)
async def test_bad_exceptions_are_422(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    body: dict[str, str],
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions)
    assert (await client.post(exceptions_url(doctor.id), json=body, headers=headers)).status_code == 422
