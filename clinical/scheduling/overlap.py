"""Double booking: the one module that knows how each database refuses it.

PostgreSQL: the exclusion constraints (see `models`) refuse an overlapping appointment even
when two transactions check at the same instant; `refusing_overlap` turns that refusal into
SlotTaken. SQLite (embedded mode) has no such constraint, but its transactions start with
BEGIN IMMEDIATE and so run one at a time: the check in `ensure_free` is then enough.
`ensure_free` runs on both, which also gives PostgreSQL callers a more precise message.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.exceptions import SlotTaken
from clinical.scheduling.models import PATIENT_OVERLAP, PRACTITIONER_OVERLAP, Appointment
from clinical.scheduling.state_machine import HOLDING_STATUSES

EXCLUSION_VIOLATION = "23P01"  # PostgreSQL's SQLSTATE for exclusion_violation


def _practitioner_taken(start: datetime, end: datetime) -> SlotTaken:
    return SlotTaken(
        f"The slot {start.isoformat()} to {end.isoformat()} is taken: the practitioner has another "
        "appointment at that time. Search for free slots again.",
        extra={"conflict": "practitioner"},
    )


def _patient_busy(start: datetime, end: datetime, other: uuid.UUID | None) -> SlotTaken:
    extra: dict[str, str] = {"conflict": "patient"}
    if other is not None:
        extra["conflicting_appointment_id"] = str(other)
    return SlotTaken(
        f"The patient already has another appointment overlapping {start.isoformat()} to {end.isoformat()}.",
        extra=extra,
    )


async def ensure_free(
    session: AsyncSession,
    *,
    practitioner_id: uuid.UUID,
    patient_id: uuid.UUID,
    start: datetime,
    end: datetime,
    ignore_id: uuid.UUID | None = None,
) -> None:
    """SlotTaken if a slot-holding appointment of the practitioner or the patient overlaps [start, end)."""
    query = select(Appointment.id, Appointment.practitioner_id, Appointment.patient_id).where(
        or_(Appointment.practitioner_id == practitioner_id, Appointment.patient_id == patient_id),
        Appointment.status.in_(HOLDING_STATUSES),
        Appointment.start_at < end,
        Appointment.end_at > start,
    )
    if ignore_id is not None:
        query = query.where(Appointment.id != ignore_id)
    for row in await session.execute(query.limit(5)):
        if row.practitioner_id == practitioner_id:
            raise _practitioner_taken(start, end)
        raise _patient_busy(start, end, row.id)


@asynccontextmanager
async def refusing_overlap(start: datetime, end: datetime) -> AsyncIterator[None]:
    """Turns the database's exclusion-constraint refusal inside the block into SlotTaken."""
    try:
        yield
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint == PATIENT_OVERLAP:
            raise _patient_busy(start, end, None) from error
        if constraint == PRACTITIONER_OVERLAP:
            raise _practitioner_taken(start, end) from error
        raise
