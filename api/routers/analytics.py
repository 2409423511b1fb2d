"""Analytics for administrators: every domain's reports over a date range, as JSON or CSV.

The catalogue below maps a report's name to the domain function computing it; each is one
aggregate query in the database. Reading a report is audited (it summarises patient data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentPrincipal, SessionDep
from clinical.analytics import appointments, consultations, demographics
from core.access import require_role
from core.audit import service as audit
from core.errors import NotFound
from core.identity.principal import Role
from core.reports import Report, check_range, prepare_session, to_csv
from devices.vitals.coverage import device_coverage
from realtime.alarms.reports import alarms_by_ward

ReportFunction = Callable[..., Awaitable[Report]]

CATALOGUE: dict[str, tuple[str, ReportFunction]] = {
    "demographics": ("Patient demographics", demographics.demographics),
    "appointments-by-practitioner": ("Appointments per practitioner", appointments.by_practitioner),
    "appointments-by-department": ("Appointments per department", appointments.by_department),
    "consultation-durations": ("Consultation durations", consultations.consultation_durations),
    "alarms-by-ward": ("Alarms per ward and time to acknowledge", alarms_by_ward),
    "device-coverage": ("Device uptime and data coverage", device_coverage),
}

router = APIRouter(prefix="/analytics", tags=["analytics"])


class ReportEntry(BaseModel):
    name: str
    title: str


@router.get("/reports", summary="The reports available")
async def list_reports(principal: CurrentPrincipal, session: SessionDep) -> list[ReportEntry]:
    require_role(session, principal, [Role.ADMIN], action="list", resource_type="analytics-report")
    return [ReportEntry(name=name, title=title) for name, (title, _) in CATALOGUE.items()]


async def compute(session: AsyncSession, name: str, start: dt.date, end: dt.date) -> Report:
    if name not in CATALOGUE:
        raise NotFound(f"No report named {name!r}; GET /api/v1/analytics/reports lists them.")
    check_range(start, end)
    await prepare_session(session)
    return await CATALOGUE[name][1](session=session, start=start, end=end)


@router.get(
    "/reports/{name}",
    summary="One report over [start, end) in UTC days; `format=csv` (or Accept: text/csv) for CSV",
    response_model=Report,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_report(
    name: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    start: Annotated[dt.date, Query(description="first day, inclusive (UTC)")],
    end: Annotated[dt.date, Query(description="last day, exclusive (UTC)")],
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Report | Response:
    require_role(
        session, principal, [Role.ADMIN], action="read", resource_type="analytics-report", resource_id=name
    )
    report = await compute(session, name, start, end)
    audit.record(
        session,
        actor=principal,
        action="read",
        resource_type="analytics-report",
        resource_id=name,
        detail={"start": start.isoformat(), "end": end.isoformat(), "rows": len(report.rows)},
    )
    if format == "csv" or (format is None and accept is not None and "text/csv" in accept):
        filename = f"{name}_{start.isoformat()}_{end.isoformat()}.csv"
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report
