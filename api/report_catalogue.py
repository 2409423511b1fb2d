"""The analytics reports every domain offers, by name: what the analytics router serves and the
analytics benchmark times. Each is one aggregate query in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import analytics
from core.errors import NotFound
from core.reports import Report, check_range, prepare_session
from devices.vitals import device_coverage
from realtime.alarms import alarms_by_ward

ReportFunction = Callable[..., Awaitable[Report]]

CATALOGUE: dict[str, tuple[str, ReportFunction]] = {
    "demographics": ("Patient demographics", analytics.demographics),
    "appointments-by-practitioner": ("Appointments per practitioner", analytics.by_practitioner),
    "appointments-by-department": ("Appointments per department", analytics.by_department),
    "consultation-durations": ("Consultation durations", analytics.consultation_durations),
    "alarms-by-ward": ("Alarms per ward and time to acknowledge", alarms_by_ward),
    "device-coverage": ("Device uptime and data coverage", device_coverage),
}


async def compute(session: AsyncSession, name: str, start: dt.date, end: dt.date) -> Report:
    """The report `name` over [start, end) in UTC days; NotFound for a name not in the catalogue."""
    if name not in CATALOGUE:
        raise NotFound(f"No report named {name!r}; GET /api/v1/analytics/reports lists them.")
    check_range(start, end)
    await prepare_session(session)
    return await CATALOGUE[name][1](session=session, start=start, end=end)
