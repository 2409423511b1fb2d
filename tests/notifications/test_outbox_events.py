"""Domains write their events in the transaction of the change: present if it commits, absent if not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.outbox import EventType, OutboxEvent
from core.principal import Role
from core.sessions import transaction
from notifications.models import Channel
from realtime.alarms.defaults import HR
from realtime.alarms.escalation import escalate_overdue
from tests.clinical.builders import create_patient
from tests.clinical.scheduling_builders import account, appointment_type, at, book, future_day, practitioner
from tests.notifications.builders import notification_settings, notifications_of, worker
from tests.realtime.alarm_builders import R, evaluate_one


async def _events_about(sessions, key: str, value: str) -> list[OutboxEvent]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.occurred_at))
        return [row for row in rows if row.payload.get(key) == value]


async def test_booking_and_cancelling_write_events_and_a_refused_booking_writes_none(
    client, sessions, settings
) -> None:
    patient, headers = await account(sessions, settings, Role.PATIENT)
    doctor = await practitioner(sessions)
    kind = await appointment_type(sessions)
    start = at(future_day(), 10)
    booked = await book(client, headers, practitioner_id=doctor.id, kind=kind, start_at=start)
    assert booked.status_code == 201
    appointment_id = booked.json()["id"]
    # The same slot again: refused (409), and its transaction, event included, rolled back.
    other, other_headers = await account(sessions, settings, Role.PATIENT)
    taken = await book(client, other_headers, practitioner_id=doctor.id, kind=kind, start_at=start)
    assert taken.status_code == 409
    cancelled = await client.post(
        f"/api/v1/appointments/{appointment_id}/cancel", json={"reason": "travelling"}, headers=headers
    )
    assert cancelled.status_code == 200

    events = await _events_about(sessions, "practitioner_id", str(doctor.id))
    assert [(e.event_type, e.payload["appointment_id"]) for e in events] == [
        ("appointment.booked", appointment_id),
        ("appointment.cancelled", appointment_id),
    ]
    assert events[0].payload["patient_id"] == str(patient.patient_id)
    assert not await _events_about(sessions, "patient_id", str(other.patient_id))


async def test_an_escalation_is_written_once_and_pages_the_nurses_in_the_app(
    sessions, settings, resources
) -> None:
    nurse, _ = await account(sessions, settings, Role.NURSE)
    patient = await create_patient(sessions)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with transaction(sessions) as session:
        await evaluate_one(session, patient_id=patient.id, readings=[R(HR, 30, t0)], now=t0)
        raised = await evaluate_one(
            session, patient_id=patient.id, readings=[R(HR, 30, t0 + timedelta(seconds=10))], now=t0
        )
    alarm_id = str(raised[0].alarm.id)
    for later in (180, 400):
        async with transaction(sessions) as session:
            await escalate_overdue(session, now=t0 + timedelta(seconds=later), after_s=120)
    about = await _events_about(sessions, "alarm_id", alarm_id)
    (event,) = [e for e in about if e.event_type == EventType.ALARM_ESCALATED]
    assert event.payload["priority"] == "high"
    # Every change is also written for the alarm manager (PCD-04), which people are not told of.
    assert {e.payload["change"] for e in about if e.event_type == EventType.ALARM_CHANGED} == {
        "raised",
        "escalated",
    }

    the_worker = worker(resources, notification_settings())
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()
    (row,) = await notifications_of(sessions, event_id=event.id, user_id=nurse.id)
    assert row.channel is Channel.IN_APP and row.title == "Escalated alarm: an unassigned bed"
    assert f"({HR})" in row.body and patient.family_name not in row.body
