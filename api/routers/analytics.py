"""Analytics for administrators: every domain's reports over a date range, as JSON or CSV.

The reports are listed in `api.report_catalogue`. Reading a report is audited (it summarises
patient data).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from api.deps import CurrentPrincipal, SessionDep
from api.report_catalogue import CATALOGUE, compute
from core import audit
from core.access import require_role
from core.principal import Role
from core.reports import Report, to_csv

router = APIRouter(prefix="/analytics", tags=["analytics"])


class ReportEntry(BaseModel):
    name: str
    title: str


@router.get("/reports", summary="The reports available")
async def list_reports(principal: CurrentPrincipal, session: SessionDep) -> list[ReportEntry]:
    require_role(session, principal, [Role.ADMIN], action="list", resource_type="analytics-report")
    return [ReportEntry(name=name, title=title) for name, (title, _) in CATALOGUE.items()]


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
