"""Practitioners' schedules: weekly working hours and exceptions (leave, holidays).

Changes lock the practitioner's row, so two of them (or one and a booking) cannot interleave
their checks on PostgreSQL; SQLite transactions are serialised anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import lookups
from clinical.scheduling.exceptions import (
    AppointmentsAffected,
    InvalidRange,
    InvalidTimeZone,
    OverlappingSchedule,
)
from clinical.scheduling.models import Appointment, ScheduleException, WorkingHours
from clinical.scheduling.schemas import ScheduleExceptionCreate, WorkingHoursCreate
from clinical.scheduling.state_machine import HOLDING_STATUSES
from clinical.scheduling.weekly import covers, hours_overlap, zones_conflict
from core import audit
from core.db import utc_now
from core.errors import NotFound
from core.principal import Principal

MAX_AFFECTED_SHOWN = 20


def _describe(hours: WorkingHours | WorkingHoursCreate) -> str:
    until = hours.valid_to.isoformat() if hours.valid_to else "open-ended"
    return (
        f"weekday {hours.weekday} {hours.start_time:%H:%M}-{hours.end_time:%H:%M} {hours.time_zone}, "
        f"valid {hours.valid_from.isoformat()} to {until}"
    )


async def add_working_hours(
    *, session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID, new: WorkingHoursCreate
) -> WorkingHours:
    """Adds a weekly block; one overlapping another of the same practitioner is refused."""
    target = await lookups.practitioner(session, practitioner_id, lock="update")
    lookups.require_schedule_manager(session, actor, target)
    if new.valid_to is not None and new.valid_to < new.valid_from:
        raise InvalidRange("valid_to must not be before valid_from.")
    for existing in await lookups.working_hours(session, [practitioner_id]):
        if zones_conflict(existing, new):
            raise InvalidTimeZone(
                f"The practitioner's hours are already kept in {existing.time_zone} over those dates "
                f"({_describe(existing)}); use one time zone per practitioner at a time.",
                extra={"conflicting_id": str(existing.id)},
            )
        if hours_overlap(existing, new):
            raise OverlappingSchedule(
                f"These hours ({_describe(new)}) overlap existing hours {existing.id} ({_describe(existing)}).",
                extra={"conflicting_id": str(existing.id)},
            )
    created = WorkingHours(practitioner_id=practitioner_id, created_by=actor.user_id, **new.model_dump())
    session.add(created)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="working_hours",
        resource_id=created.id,
        detail={"practitioner_id": str(practitioner_id)},
    )
    return created


async def _future_holding(
    session: AsyncSession, practitioner_id: uuid.UUID, start: datetime, end: datetime | None = None
) -> list[Appointment]:
    query = select(Appointment).where(
        Appointment.practitioner_id == practitioner_id,
        Appointment.status.in_(HOLDING_STATUSES),
        Appointment.end_at > start,
    )
    if end is not None:
        query = query.where(Appointment.start_at < end)
    return list(await session.scalars(query.order_by(Appointment.start_at)))


def _refuse_affected(appointments: list[Appointment], what: str) -> None:
    if appointments:
        ids = [str(a.id) for a in appointments[:MAX_AFFECTED_SHOWN]]
        raise AppointmentsAffected(
            f"{len(appointments)} booked appointment(s) fall in {what}; reschedule or cancel them first.",
            extra={"appointment_ids": ids},
        )


async def remove_working_hours(
    *, session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID, hours_id: uuid.UUID
) -> None:
    """Deletes a weekly block, unless future appointments lie in it."""
    target = await lookups.practitioner(session, practitioner_id, lock="update")
    lookups.require_schedule_manager(session, actor, target)
    hours = await session.get(WorkingHours, hours_id)
    if hours is None or hours.practitioner_id != practitioner_id:
        raise NotFound(f"The practitioner has no working hours {hours_id}.")
    upcoming = await _future_holding(session, practitioner_id, utc_now())
    _refuse_affected([a for a in upcoming if covers(hours, a.start_at, a.end_at)], "these hours")
    await session.delete(hours)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="delete",
        resource_type="working_hours",
        resource_id=hours_id,
        detail={"practitioner_id": str(practitioner_id)},
    )


async def list_working_hours(
    *, session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID
) -> list[WorkingHours]:
    """A practitioner's weekly blocks, by weekday and time."""
    await lookups.practitioner(session, practitioner_id)
    found = await lookups.working_hours(session, [practitioner_id])
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type="working_hours",
        detail={"practitioner_id": str(practitioner_id)},
    )
    return found


async def add_exception(
    *, session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID, new: ScheduleExceptionCreate
) -> ScheduleException:
    """Marks the practitioner away; refused while booked appointments lie in that time."""
    if new.end_at <= new.start_at:
        raise InvalidRange("end_at must be after start_at.")
    target = await lookups.practitioner(session, practitioner_id, lock="update")
    lookups.require_schedule_manager(session, actor, target)
    affected = await _future_holding(session, practitioner_id, new.start_at, new.end_at)
    _refuse_affected(affected, "that time")
    created = ScheduleException(practitioner_id=practitioner_id, created_by=actor.user_id, **new.model_dump())
    session.add(created)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="schedule_exception",
        resource_id=created.id,
        detail={"practitioner_id": str(practitioner_id), "reason": new.reason.value},
    )
    return created


async def remove_exception(
    *, session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID, exception_id: uuid.UUID
) -> None:
    """Deletes an exception: the practitioner is available again in their working hours."""
    target = await lookups.practitioner(session, practitioner_id, lock="update")
    lookups.require_schedule_manager(session, actor, target)
    found = await session.get(ScheduleException, exception_id)
    if found is None or found.practitioner_id != practitioner_id:
        raise NotFound(f"The practitioner has no schedule exception {exception_id}.")
    await session.delete(found)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="delete",
        resource_type="schedule_exception",
        resource_id=exception_id,
        detail={"practitioner_id": str(practitioner_id)},
    )


async def list_exceptions(
    *,
    session: AsyncSession,
    actor: Principal,
    practitioner_id: uuid.UUID,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[ScheduleException]:
    """A practitioner's exceptions overlapping [start, end) (all when unbounded), by start."""
    await lookups.practitioner(session, practitioner_id)
    found = await lookups.exceptions_between(session, [practitioner_id], start, end)
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type="schedule_exception",
        detail={"practitioner_id": str(practitioner_id)},
    )
    return found
