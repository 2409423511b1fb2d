"""Free-slot search across practitioners: load their schedules and bookings, then cut slots."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Practitioner, PractitionerSpecialty
from clinical.scheduling import lookups
from clinical.scheduling.exceptions import InvalidRange, UnknownPractitioner
from clinical.scheduling.models import Appointment
from clinical.scheduling.schemas import SlotList, SlotRead
from clinical.scheduling.slots import Interval, free_slots
from clinical.scheduling.state_machine import HOLDING_STATUSES
from core import audit
from core.db import utc_now
from core.principal import Principal

MAX_SEARCH_DAYS = 31
MAX_SLOTS = 1000
MAX_PRACTITIONERS = 200  # one search should not walk a whole national directory


async def _practitioner_ids(
    session: AsyncSession, practitioner_id: uuid.UUID | None, specialty: str | None
) -> list[uuid.UUID]:
    query = select(Practitioner.id).where(Practitioner.active.is_(True))
    if practitioner_id is not None:
        query = query.where(Practitioner.id == practitioner_id)
    if specialty is not None:
        query = query.join(PractitionerSpecialty).where(PractitionerSpecialty.specialty == specialty.lower())
    ids = list(await session.scalars(query.order_by(Practitioner.id).limit(MAX_PRACTITIONERS)))
    if practitioner_id is not None and not ids and specialty is None:
        raise UnknownPractitioner(f"There is no active practitioner {practitioner_id}.")
    return ids


async def _blocked(
    session: AsyncSession, ids: list[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, list[Interval]]:
    """Each practitioner's exceptions and booked time overlapping [start, end)."""
    blocked: dict[uuid.UUID, list[Interval]] = {pid: [] for pid in ids}
    for exception in await lookups.exceptions_between(session, ids, start, end):
        blocked[exception.practitioner_id].append(lookups.as_interval(exception))
    busy = await session.execute(
        select(Appointment.practitioner_id, Appointment.start_at, Appointment.end_at).where(
            Appointment.practitioner_id.in_(ids),
            Appointment.status.in_(HOLDING_STATUSES),
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
    )
    for row in busy:
        blocked[row.practitioner_id].append(Interval(row.start_at, row.end_at, "booked"))
    return blocked


async def find_free_slots(
    *,
    session: AsyncSession,
    actor: Principal,
    appointment_type: str,
    start: datetime,
    end: datetime,
    practitioner_id: uuid.UUID | None = None,
    specialty: str | None = None,
    limit: int = 200,
) -> SlotList:
    """Free slots of one appointment type starting in [start, end), earliest first."""
    if end <= start:
        raise InvalidRange("end must be after start.")
    if end - start > timedelta(days=MAX_SEARCH_DAYS):
        raise InvalidRange(f"Search at most {MAX_SEARCH_DAYS} days at a time.")
    kind = await lookups.appointment_type(session, appointment_type)
    duration = timedelta(minutes=kind.duration_minutes)
    ids = await _practitioner_ids(session, practitioner_id, specialty)
    hours = await lookups.working_hours(session, ids)
    blocked = await _blocked(session, ids, start, end + duration)
    now = utc_now()
    found = [
        SlotRead(
            practitioner_id=pid,
            start_at=slot.start,
            end_at=slot.end,
            local_start=slot.start.astimezone(ZoneInfo(slot.time_zone)),
            time_zone=slot.time_zone,
        )
        for pid in ids
        for slot in free_slots(
            hours=[h for h in hours if h.practitioner_id == pid],
            blocked=blocked[pid],
            duration=duration,
            start=start,
            end=end,
            not_before=now,
        )
    ]
    found.sort(key=lambda s: (s.start_at, s.practitioner_id))
    audit.record(
        session,
        actor=actor,
        action="search",
        resource_type="slot",
        detail={
            "appointment_type": kind.code,
            "practitioner_id": str(practitioner_id) if practitioner_id else None,
            "specialty": specialty,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "found": len(found),
        },
    )
    page, next_start = _cut(found, limit)
    return SlotList(
        appointment_type=kind.code, items=page, truncated=next_start is not None, next_start=next_start
    )


def _cut(found: list[SlotRead], limit: int) -> tuple[list[SlotRead], datetime | None]:
    """The first `limit` slots and where the rest start; a page never splits one start time."""
    if len(found) <= limit:
        return found, None
    next_start = found[limit].start_at
    page = [slot for slot in found[:limit] if slot.start_at < next_start]
    if not page:
        # More practitioners free at one instant than the page holds: that instant alone, whole.
        page = [slot for slot in found if slot.start_at == next_start]
        later = [slot for slot in found if slot.start_at > next_start]
        return page, later[0].start_at if later else None
    return page, next_start
