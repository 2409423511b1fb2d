"""Appointments over HTTP: booking rules, the state machine, cancellation windows, scope and audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.exceptions import TransitionNotAllowed
from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import TRANSITIONS, Action, AppointmentStatus, next_status
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.scheduling_builders import (
    API,
    account,
    appointment_row,
    appointment_type,
    at,
    book,
    future_day,
    patient_record,
    practitioner,
)

S = AppointmentStatus


def url(appointment_id: object, action: str = "") -> str:
    return f"{API}/appointments/{appointment_id}" + (f"/{action}" if action else "")


async def count_appointments(sessions: async_sessionmaker[AsyncSession], practitioner_id: uuid.UUID) -> int:
    async with sessions() as session:
        query = (
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.practitioner_id == practitioner_id)
        )
        return int(await session.scalar(query) or 0)


async def audit_actions(
    sessions: async_sessionmaker[AsyncSession], appointment_id: object
) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.outcome)
            .where(AuditEvent.resource_type == "appointment", AuditEvent.resource_id == str(appointment_id))
            .order_by(AuditEvent.seq)
        )
        return [(r.action, r.outcome) for r in rows]


# --- the state machine itself ------------------------------------------------------------------


def test_state_machine_allows_exactly_the_documented_moves() -> None:
    allowed = {(status, action) for status, moves in TRANSITIONS.items() for action in moves}
    assert allowed == {
        (S.BOOKED, Action.RESCHEDULE),
        (S.BOOKED, Action.CHECK_IN),
        (S.BOOKED, Action.CANCEL),
        (S.BOOKED, Action.NO_SHOW),
        (S.CHECKED_IN, Action.START),
        (S.CHECKED_IN, Action.COMPLETE),
        (S.CHECKED_IN, Action.CANCEL),
        (S.IN_PROGRESS, Action.COMPLETE),
    }
    for status in S:
        for action in Action:
            if (status, action) not in allowed:
                with pytest.raises(TransitionNotAllowed):
                    next_status(status, action)


# --- booking -----------------------------------------------------------------------------------


async def test_patient_books_for_themself_and_it_is_audited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    start = at(future_day(), 9, 30)
    response = await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=start)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["patient_id"] == str(user.patient_id) and body["status"] == "booked"
    assert body["booked_by"] == str(user.id) and body["mode"] == "in_person"
    assert datetime.fromisoformat(body["start_at"]) == start
    assert datetime.fromisoformat(body["end_at"]) - datetime.fromisoformat(body["start_at"]) == timedelta(
        minutes=30
    )
    read = await client.get(url(body["id"]), headers=headers)
    assert read.status_code == 200 and read.json() == body
    async with sessions() as session:
        patients = set(
            await session.scalars(select(AuditEvent.patient_id).where(AuditEvent.resource_id == body["id"]))
        )
    assert patients == {user.patient_id}
    assert await audit_actions(sessions, body["id"]) == [("book", "success"), ("read", "success")]


async def test_patient_cannot_book_for_someone_else(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    [other] = await patient_record(sessions)
    response = await book(
        client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(future_day(), 9), patient_id=other
    )
    assert response.status_code == 403
    assert await count_appointments(sessions, doctor.id) == 0
    async with sessions() as session:
        outcome = await session.scalar(
            select(AuditEvent.outcome).where(AuditEvent.actor_id == user.id, AuditEvent.action == "book")
        )
    assert outcome == "denied"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN, Role.NURSE])
async def test_staff_book_for_any_patient_and_must_name_them(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    _, headers = await account(sessions, settings, role)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    [patient_id] = await patient_record(sessions)
    unnamed = await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(future_day(), 9))
    assert unnamed.status_code == 422
    named = await book(
        client,
        headers,
        practitioner_id=doctor.id,
        kind=kind,
        start_at=at(future_day(), 9),
        patient_id=patient_id,
    )
    assert named.status_code == 201, named.text


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("past", "in-the-past"),
        ("night", "outside-working-hours"),
        ("overrun", "outside-working-hours"),
        ("off-grid", "off-slot-grid"),
        ("unknown-type", "unknown-appointment-type"),
        ("unknown-practitioner", "unknown-practitioner"),
        ("unknown-patient", "unknown-patient"),
        ("too-far", "too-far-ahead"),
        ("naive", "validation-failed"),
        ("impossible-date", "validation-failed"),
    ],
)
async def test_bad_bookings_are_422_naming_the_reason_and_write_nothing(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    case: str,
    code: str,
) -> None:
    _, headers = await account(sessions, settings, Role.NURSE)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    [patient_id] = await patient_record(sessions)
    day = future_day()
    body = {
        "practitioner_id": str(doctor.id),
        "appointment_type": kind.code,
        "patient_id": str(patient_id),
        "start_at": at(day, 9).isoformat(),
    }
    changes: dict[str, dict[str, str]] = {
        "past": {"start_at": at(future_day(-2), 9).isoformat()},
        "night": {"start_at": at(day, 21).isoformat()},
        "overrun": {"start_at": at(day, 17, 45).isoformat()},
        "off-grid": {"start_at": at(day, 9, 10).isoformat()},
        "unknown-type": {"appointment_type": "no-such-type"},
        "unknown-practitioner": {"practitioner_id": str(uuid.uuid4())},
        "unknown-patient": {"patient_id": str(uuid.uuid4())},
        "too-far": {"start_at": at(future_day(400), 9).isoformat()},
        "naive": {"start_at": f"{day.isoformat()}T09:00:00"},
        "impossible-date": {"start_at": "2031-02-30T09:00:00+01:00"},
    }
    response = await client.post(f"{API}/appointments", json={**body, **changes[case]}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert await count_appointments(sessions, doctor.id) == 0


async def test_a_taken_slot_is_409(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.CLINICIAN)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions, duration_minutes=60)
    short = await appointment_type(sessions, duration_minutes=30)
    first, second = await patient_record(sessions, 2)
    day = future_day()
    taken = await book(
        client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 10), patient_id=first
    )
    assert taken.status_code == 201
    # A 30-minute slot at 10:30 lies inside the booked hour.
    again = await book(
        client, headers, practitioner_id=doctor.id, kind=short, start_at=at(day, 10, 30), patient_id=second
    )
    assert again.status_code == 409
    assert again.json()["code"] == "slot-taken" and again.json()["conflict"] == "practitioner"


# --- transitions -------------------------------------------------------------------------------


async def _booked(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    headers: dict[str, str],
) -> dict[str, object]:
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    [patient_id] = await patient_record(sessions)
    response = await book(
        client,
        headers,
        practitioner_id=doctor.id,
        kind=kind,
        start_at=at(future_day(), 11),
        patient_id=patient_id,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    "path",
    [
        ["check-in", "start", "complete"],
        ["check-in", "complete"],
        ["check-in", "cancel"],
        ["cancel"],
    ],
)
async def test_allowed_paths_through_the_state_machine(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, path: list[str]
) -> None:
    _, headers = await account(sessions, settings, Role.NURSE)
    appointment = await _booked(client, sessions, headers)
    expected = {
        "check-in": "checked_in",
        "start": "in_progress",
        "complete": "completed",
        "cancel": "cancelled",
    }
    for step in path:
        body = {"reason": "patient unwell"} if step == "cancel" else None
        response = await client.post(url(appointment["id"], step), json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == expected[step]
    assert [a for a, _ in await audit_actions(sessions, appointment["id"])][1:] == [
        s.replace("-", "_") for s in path
    ]


async def test_no_show_after_the_start(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.CLINICIAN)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    [patient_id] = await patient_record(sessions)
    past = await appointment_row(
        sessions,
        patient_id=patient_id,
        practitioner_id=doctor.id,
        kind=kind,
        start_at=datetime.now(UTC) - timedelta(hours=2),
    )
    response = await client.post(url(past.id, "no-show"), headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "no_show"

    upcoming = await _booked(client, sessions, headers)
    early = await client.post(url(upcoming["id"], "no-show"), headers=headers)
    assert early.status_code == 409 and early.json()["code"] == "transition-not-allowed"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.BOOKED, "complete"),
        (S.BOOKED, "start"),
        (S.CHECKED_IN, "check-in"),
        (S.CHECKED_IN, "no-show"),
        (S.CHECKED_IN, "reschedule"),
        (S.IN_PROGRESS, "cancel"),
        (S.COMPLETED, "check-in"),
        (S.COMPLETED, "cancel"),
        (S.CANCELLED, "check-in"),
        (S.CANCELLED, "reschedule"),
        (S.CANCELLED, "cancel"),
        (S.NO_SHOW, "complete"),
    ],
)
async def test_forbidden_transitions_are_409(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    status: AppointmentStatus,
    action: str,
) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    [patient_id] = await patient_record(sessions)
    day = future_day()
    row = await appointment_row(
        sessions,
        patient_id=patient_id,
        practitioner_id=doctor.id,
        kind=kind,
        start_at=at(day, 9),
        status=status,
    )
    body = {"cancel": {"reason": "x"}, "reschedule": {"start_at": at(day, 10).isoformat()}}.get(action)
    response = await client.post(url(row.id, action), json=body, headers=headers)
    assert response.status_code == 409, response.text
    assert (
        response.json()["code"] == "transition-not-allowed"
        and response.json()["current_status"] == status.value
    )
    async with sessions() as session:
        assert (await session.get(Appointment, row.id)).status is status  # type: ignore[union-attr]


# --- cancelling and rescheduling ---------------------------------------------------------------


async def test_patient_cancels_outside_the_window_and_the_slot_is_free_again(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions, cancellation_window_hours=24)
    start = at(future_day(), 9)
    booked = (await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=start)).json()
    missing_reason = await client.post(url(booked["id"], "cancel"), json={}, headers=headers)
    assert missing_reason.status_code == 422
    cancelled = await client.post(
        url(booked["id"], "cancel"), json={"reason": "feeling better"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["cancellation_reason"] == "feeling better"
    assert body["cancelled_by"] == str(user.id) and body["cancelled_at"] is not None
    rebooked = await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=start)
    assert rebooked.status_code == 201


async def test_inside_the_window_only_staff_may_cancel(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    _, staff = await account(sessions, settings, Role.NURSE)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions, cancellation_window_hours=720)  # 30 days: always inside
    booked = (
        await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(future_day(), 9))
    ).json()
    refused = await client.post(url(booked["id"], "cancel"), json={"reason": "busy"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "cancellation-window-closed"
    moved = await client.post(
        url(booked["id"], "reschedule"), json={"start_at": at(future_day(), 10).isoformat()}, headers=headers
    )
    assert moved.status_code == 409 and moved.json()["code"] == "cancellation-window-closed"
    by_staff = await client.post(
        url(booked["id"], "cancel"), json={"reason": "patient called"}, headers=staff
    )
    assert by_staff.status_code == 200


async def test_reschedule_moves_the_appointment_and_frees_the_old_slot(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    other_doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    day = future_day()
    booked = (await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 9))).json()
    moved = await client.post(
        url(booked["id"], "reschedule"), json={"start_at": at(day, 9, 30).isoformat()}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["start_at"]) == at(day, 9, 30)
    assert moved.json()["reschedule_count"] == 1
    # Onto another practitioner at an overlapping time: only this appointment holds the patient then.
    switched = await client.post(
        url(booked["id"], "reschedule"),
        json={"start_at": at(day, 9, 30).isoformat(), "practitioner_id": str(other_doctor.id)},
        headers=headers,
    )
    assert switched.status_code == 200 and switched.json()["practitioner_id"] == str(other_doctor.id)
    [someone] = await patient_record(sessions)
    _, staff = await account(sessions, settings, Role.NURSE)
    freed = await book(
        client, staff, practitioner_id=doctor.id, kind=kind, start_at=at(day, 9), patient_id=someone
    )
    assert freed.status_code == 201
    onto_taken = await client.post(
        url(booked["id"], "reschedule"),
        json={"start_at": at(day, 9).isoformat(), "practitioner_id": str(doctor.id)},
        headers=headers,
    )
    assert onto_taken.status_code == 409 and onto_taken.json()["code"] == "slot-taken"
    off_grid = await client.post(
        url(booked["id"], "reschedule"), json={"start_at": at(day, 9, 5).isoformat()}, headers=headers
    )
    assert off_grid.status_code == 422 and off_grid.json()["code"] == "off-slot-grid"


# --- scope and roles ---------------------------------------------------------------------------


async def test_patients_reach_only_their_own_appointments(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    owner, owner_headers = await account(sessions, settings, Role.PATIENT)
    intruder, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    day = future_day()
    mine = (await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 8))).json()
    theirs = (
        await book(client, owner_headers, practitioner_id=doctor.id, kind=kind, start_at=at(day, 9))
    ).json()
    for method, path, body in (
        ("GET", url(theirs["id"]), None),
        ("POST", url(theirs["id"], "cancel"), {"reason": "mischief"}),
        ("POST", url(theirs["id"], "reschedule"), {"start_at": at(day, 10).isoformat()}),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
    listed = await client.get(f"{API}/appointments", headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [mine["id"]]
    prying = await client.get(
        f"{API}/appointments", params={"patient_id": str(owner.patient_id)}, headers=headers
    )
    assert prying.status_code == 403
    denied = [a for a in await audit_actions(sessions, theirs["id"]) if a[1] == "denied"]
    assert denied == [("read", "denied"), ("cancel", "denied"), ("reschedule", "denied")]
    assert intruder.patient_id != owner.patient_id


@pytest.mark.parametrize("step", ["check-in", "start", "complete", "no-show"])
async def test_patients_cannot_record_visit_steps(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, step: str
) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    mine = (
        await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=at(future_day(), 9))
    ).json()
    assert (await client.post(url(mine["id"], step), headers=headers)).status_code == 403
    assert (await client.post(url(mine["id"], step))).status_code == 401


async def test_staff_list_with_filters_and_pages(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.CLINICIAN)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    patients = await patient_record(sessions, 5)
    day = future_day()
    ids = []
    for offset, patient_id in enumerate(patients):
        response = await book(
            client,
            headers,
            practitioner_id=doctor.id,
            kind=kind,
            start_at=at(day, 9 + offset),
            patient_id=patient_id,
        )
        ids.append(response.json()["id"])
    await client.post(url(ids[0], "cancel"), json={"reason": "x"}, headers=headers)
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"practitioner_id": str(doctor.id), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{API}/appointments", params=params, headers=headers)).json()
        seen += [a["id"] for a in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ids
    booked_only = await client.get(
        f"{API}/appointments", params={"practitioner_id": str(doctor.id), "status": "booked"}, headers=headers
    )
    assert [a["id"] for a in booked_only.json()["items"]] == ids[1:]
    window = await client.get(
        f"{API}/appointments",
        params={
            "practitioner_id": str(doctor.id),
            "start_from": at(day, 10).isoformat(),
            "start_to": at(day, 12).isoformat(),
        },
        headers=headers,
    )
    assert [a["id"] for a in window.json()["items"]] == ids[1:3]
    by_patient = await client.get(
        f"{API}/appointments", params={"patient_id": str(patients[4])}, headers=headers
    )
    assert [a["id"] for a in by_patient.json()["items"]] == [ids[4]]
    bad_cursor = await client.get(f"{API}/appointments", params={"cursor": "nonsense"}, headers=headers)
    assert bad_cursor.status_code == 422
    async with sessions() as session:
        listed_patients = set(
            await session.scalars(
                select(AuditEvent.patient_id).where(
                    AuditEvent.action == "list",
                    AuditEvent.resource_type == "appointment",
                    AuditEvent.patient_id.in_(patients),
                )
            )
        )
    assert listed_patients == set(patients)


async def test_appointments_need_a_token(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    for method, path in (
        ("GET", f"{API}/appointments"),
        ("POST", f"{API}/appointments"),
        ("GET", url(some)),
        ("POST", url(some, "cancel")),
        ("POST", url(some, "reschedule")),
    ):
        assert (await client.request(method, path, json={})).status_code == 401


async def test_unknown_appointment_is_404(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await account(sessions, settings, Role.NURSE)
    assert (await client.get(url(uuid.uuid4()), headers=headers)).status_code == 404
