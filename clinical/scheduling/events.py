"""Where appointments' life events leave the scheduling domain.

Every booking, rescheduling and cancellation passes through `appointment_changed`, inside the
transaction that made the change. The notifications outbox inserts its row here, so a message
goes out if and only if the change commits.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.models import Appointment
from core import outbox
from core.principal import Principal


class AppointmentEvent(enum.StrEnum):
    BOOKED = "appointment.booked"
    RESCHEDULED = "appointment.rescheduled"
    CANCELLED = "appointment.cancelled"


async def appointment_changed(
    session: AsyncSession,
    *,
    event: AppointmentEvent,
    appointment: Appointment,
    actor: Principal,
    previous_start: datetime | None = None,
) -> None:
    """Announces a change of `appointment` through the outbox, in the caller's transaction."""
    outbox.record(
        session,
        event_type=outbox.EventType(event.value),
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        practitioner_id=appointment.practitioner_id,
        start_at=appointment.start_at,
        previous_start=previous_start,
    )
