"""Where appointments' life events leave the scheduling domain.

Every booking, rescheduling and cancellation passes through `appointment_changed`, inside the
transaction that made the change. Nothing listens yet; the notifications outbox will insert its
row here, so a message goes out if and only if the change commits.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.models import Appointment
from core.identity.principal import Principal


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
    """Announces a change of `appointment` (no subscriber yet; the outbox hooks in here)."""
