"""The reports as the API serves them: for billing staff and administrators, each run audited."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.reports.ageing import ageing_report
from billing.reports.revenue import MAX_DAYS, revenue_report
from billing.reports.schemas import AgeingReport, Granularity, RevenueReport
from core import audit
from core.db import utc_now
from core.errors import InvalidInput
from core.principal import Principal

RESOURCE = "billing_report"


async def ageing(
    *, session: AsyncSession, actor: Principal, as_of: date | None, patient_id: uuid.UUID | None
) -> AgeingReport:
    """Accounts-receivable ageing as at `as_of` (default today, UTC)."""
    require_manager(session, actor, action="read", resource_type=RESOURCE, resource_id="ageing")
    report = await ageing_report(session=session, as_of=as_of or utc_now().date(), patient_id=patient_id)
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type=RESOURCE,
        resource_id="ageing",
        patient_id=patient_id,
        detail={"as_of": report.as_of.isoformat()},
    )
    return report


async def revenue(
    *,
    session: AsyncSession,
    actor: Principal,
    start: date | None,
    end: date | None,
    granularity: Granularity,
    payer_id: uuid.UUID | None,
) -> RevenueReport:
    """Revenue from `start` (default 1 January this year) to `end` (exclusive, default tomorrow)."""
    require_manager(session, actor, action="read", resource_type=RESOURCE, resource_id="revenue")
    today = utc_now().date()
    start = start or today.replace(month=1, day=1)
    end = end or today + timedelta(days=1)
    if end <= start:
        raise InvalidInput("The end date must be after the start date (the end is exclusive).")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"Ask for at most {MAX_DAYS} days at a time.")
    report = await revenue_report(
        session=session, start=start, end=end, granularity=granularity, payer_id=payer_id
    )
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type=RESOURCE,
        resource_id="revenue",
        detail={"start": start.isoformat(), "end": end.isoformat(), "granularity": granularity.value},
    )
    return report
