"""Appointment reminders, 24 hours and 1 hour before, each written to the outbox once.

The dedupe key holds the appointment and its start: a rescheduled visit gets its reminders again
for the new time, and no number of workers or runs writes one twice. The worker process runs
`run_appointment_reminders` as a periodic job (`ownat.worker_jobs`); the notifications package turns
the events into messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import AppointmentStatus
from core import outbox
from core.outbox import EventType, OutboxEvent
from core.resources import Resources
from core.sessions import transaction

# Each lead time, and until when before the start it is still worth sending.
REMINDER_LEADS = ((timedelta(hours=24), timedelta(hours=1)), (timedelta(hours=1), timedelta(0)))


def reminder_key(appointment: Appointment, lead: timedelta) -> str:
    return (
        f"reminder:{appointment.id}:{appointment.start_at.isoformat()}:{int(lead.total_seconds() // 3600)}h"
    )


async def schedule_reminders(*, session: AsyncSession, now: datetime, limit: int = 1000) -> int:
    """Writes the reminders that have come due; returns how many were new."""
    written = 0
    for lead, until in REMINDER_LEADS:
        # Due from `start - lead`, still useful until `start - until`; an appointment booked inside
        # the window already had its confirmation and gets no reminder for that lead.
        appointments = await session.scalars(
            select(Appointment)
            .where(
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.start_at > now + until,
                Appointment.start_at <= now + lead,
            )
            .order_by(Appointment.start_at)
            .limit(limit)
        )
        due = {
            reminder_key(appointment, lead): appointment
            for appointment in appointments
            if appointment.created_at <= appointment.start_at - lead
        }
        # One look-up for the keys already written; the insert still ignores a concurrent duplicate.
        existing = set(
            await session.scalars(select(OutboxEvent.dedupe_key).where(OutboxEvent.dedupe_key.in_(due)))
        )
        for key, appointment in due.items():
            if key in existing:
                continue
            written += await outbox.record_once(
                session,
                event_type=EventType.APPOINTMENT_REMINDER,
                dedupe_key=key,
                occurred_at=now,
                appointment_id=appointment.id,
                patient_id=appointment.patient_id,
                practitioner_id=appointment.practitioner_id,
                start_at=appointment.start_at,
                lead_hours=int(lead.total_seconds() // 3600),
            )
    return written


async def run_appointment_reminders(resources: Resources, *, now: datetime) -> int:
    """One pass with the process's database, as a periodic job; how many reminders were new."""
    async with transaction(resources.sessions) as session:
        return await schedule_reminders(session=session, now=now)
