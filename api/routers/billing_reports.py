"""Billing reports: accounts-receivable ageing and revenue by period, payer and service (JSON).

Billing clerks and administrators only; the services refuse everyone else (audited).
"""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter

from api.deps import CurrentPrincipal, SessionDep
from billing import reports
from billing.reports import AgeingReport, Granularity, RevenueReport

router = APIRouter(tags=["billing reports"])


@router.get("/billing/reports/ageing", response_model=AgeingReport, summary="Accounts-receivable ageing")
async def ageing(
    actor: CurrentPrincipal,
    session: SessionDep,
    as_of: date | None = None,
    patient_id: uuid.UUID | None = None,
) -> AgeingReport:
    return await reports.ageing(session=session, actor=actor, as_of=as_of, patient_id=patient_id)


@router.get(
    "/billing/reports/revenue", response_model=RevenueReport, summary="Revenue by period, payer, service"
)
async def revenue(
    actor: CurrentPrincipal,
    session: SessionDep,
    start: date | None = None,
    end: date | None = None,
    granularity: Granularity = Granularity.MONTH,
    payer_id: uuid.UUID | None = None,
) -> RevenueReport:
    return await reports.revenue(
        session=session, actor=actor, start=start, end=end, granularity=granularity, payer_id=payer_id
    )
