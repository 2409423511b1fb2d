"""Appointments per practitioner and per department: volumes, no-show rate and utilisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.analytics.capacity import capacity_minutes
from clinical.organisation import Department, Practitioner
from clinical.scheduling import Appointment, AppointmentStatus
from core.reports import Report, day_start, dialect_name, elapsed_seconds, rounded

COLUMNS = [
    "appointments", "completed", "cancelled", "no_show",
    "no_show_rate_pct", "booked_minutes", "capacity_minutes", "utilisation_pct",
]  # fmt: skip
NOTES = [
    "appointments: not cancelled, starting in the range; no_show_rate_pct: no-shows / (completed + no-shows).",
    "utilisation_pct: minutes of appointments not cancelled / scheduled working minutes (leave deducted).",
]


def _count(status: AppointmentStatus):
    return func.sum(case((Appointment.status == status, 1), else_=0))


async def _per_practitioner(session: AsyncSession, start: date, end: date) -> list[tuple]:
    kept = Appointment.status != AppointmentStatus.CANCELLED
    minutes = elapsed_seconds(dialect_name(session), Appointment.start_at, Appointment.end_at) / 60.0
    statement = (
        select(
            Appointment.practitioner_id,
            func.sum(case((kept, 1), else_=0)),
            _count(AppointmentStatus.COMPLETED),
            _count(AppointmentStatus.CANCELLED),
            _count(AppointmentStatus.NO_SHOW),
            func.sum(case((kept, minutes), else_=0.0)),
        )
        .where(Appointment.start_at >= day_start(start), Appointment.start_at < day_start(end))
        .group_by(Appointment.practitioner_id)
    )
    return list((await session.execute(statement)).all())


def _figures(counts: Iterable[float], capacity: float) -> list[int | float | None]:
    kept, completed, cancelled, no_show, booked = (float(v or 0) for v in counts)
    attended_or_missed = completed + no_show
    return [
        int(kept), int(completed), int(cancelled), int(no_show),
        rounded(100 * no_show / attended_or_missed) if attended_or_missed else None,
        rounded(booked), rounded(capacity),
        rounded(100 * booked / capacity) if capacity else None,
    ]  # fmt: skip


async def _gather(session: AsyncSession, start: date, end: date) -> tuple[dict, dict, list[Practitioner]]:
    counts = {row[0]: row[1:] for row in await _per_practitioner(session, start, end)}
    capacity = await capacity_minutes(session=session, start=day_start(start), end=day_start(end))
    wanted = set(counts) | set(capacity)
    practitioners = [p for p in await session.scalars(select(Practitioner)) if p.id in wanted]
    return counts, capacity, practitioners


async def by_practitioner(*, session: AsyncSession, start: date, end: date) -> Report:
    """One row per practitioner with appointments or working hours in the range."""
    counts, capacity, practitioners = await _gather(session, start, end)
    departments: dict[uuid.UUID | None, str] = {
        d.id: d.name for d in await session.scalars(select(Department))
    }
    rows = [
        [
            str(p.id),
            f"{p.family_name}, {p.given_name}",
            departments.get(p.department_id, ""),
            *_figures(counts.get(p.id, (0, 0, 0, 0, 0)), capacity.get(p.id, 0.0)),
        ]
        for p in sorted(practitioners, key=lambda p: (p.family_name, p.given_name, str(p.id)))
    ]
    return Report(
        name="appointments-by-practitioner",
        title="Appointments, no-shows and utilisation per practitioner",
        start=start, end=end,
        columns=["practitioner_id", "practitioner", "department", *COLUMNS],
        rows=rows, notes=NOTES,
    )  # fmt: skip


async def by_department(*, session: AsyncSession, start: date, end: date) -> Report:
    """The same figures summed per department (practitioners without one under "none")."""
    counts, capacity, practitioners = await _gather(session, start, end)
    departments: dict[uuid.UUID | None, str] = {
        d.id: d.name for d in await session.scalars(select(Department))
    }
    totals: dict[uuid.UUID | None, list[float]] = {}
    for p in practitioners:
        into = totals.setdefault(p.department_id, [0.0] * 6)
        for i, value in enumerate((*counts.get(p.id, (0, 0, 0, 0, 0)), capacity.get(p.id, 0.0))):
            into[i] += float(value or 0)
    rows = [
        [departments.get(dept_id, "none"), *_figures(figures[:5], figures[5])]
        for dept_id, figures in sorted(totals.items(), key=lambda kv: departments.get(kv[0], "~"))
    ]
    return Report(
        name="appointments-by-department",
        title="Appointments, no-shows and utilisation per department",
        start=start, end=end,
        columns=["department", *COLUMNS], rows=rows, notes=NOTES,
    )  # fmt: skip
