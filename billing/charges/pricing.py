"""Turning a fee-schedule code and a day into a charge item priced as of that day."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import fees
from billing.charges.models import ChargeItem, ChargeSource
from billing.exceptions import CurrencyMismatch
from billing.fees import BillableService, ServiceKind
from core.errors import InvalidInput
from core.settings import Settings


async def service_by_code(session: AsyncSession, code: str) -> BillableService:
    """The active fee-schedule entry of `code`; InvalidInput if there is none."""
    service = await session.scalar(select(BillableService).where(BillableService.code == code))
    if service is None or not service.active:
        raise InvalidInput(f"{code} is not an active code of the fee schedule.")
    return service


async def consultation_for(session: AsyncSession, minutes: int) -> BillableService:
    """The active consultation type whose duration band holds `minutes`."""
    rows = await session.scalars(
        select(BillableService)
        .where(BillableService.kind == ServiceKind.CONSULTATION, BillableService.active.is_(True))
        .order_by(BillableService.min_duration_min.desc())
    )
    for service in rows:
        low, high = service.min_duration_min or 0, service.max_duration_min
        if low <= minutes and (high is None or minutes < high):
            return service
    raise InvalidInput(f"No consultation type of the fee schedule covers {minutes} minutes.")


async def priced_charge(
    session: AsyncSession,
    *,
    settings: Settings,
    service: BillableService,
    day: date,
    patient_id: uuid.UUID,
    encounter_id: uuid.UUID | None,
    source: ChargeSource,
    source_key: str,
    created_by: uuid.UUID,
    quantity: int = 1,
    description: str | None = None,
) -> ChargeItem:
    """A new (unsaved) charge for `service` at its price on `day`, in the organisation's currency."""
    price = await fees.price_on(session, service, day)
    if price.currency != settings.currency:
        raise CurrencyMismatch(
            f"{service.code} is priced in {price.currency}; the organisation bills in {settings.currency}."
        )
    tax_rate = settings.billing_tax_rate_bp if price.tax_rate_bp is None else price.tax_rate_bp
    return ChargeItem(
        patient_id=patient_id,
        encounter_id=encounter_id,
        service_id=service.id,
        source_type=source,
        source_key=source_key,
        code=service.code,
        description=description or service.display,
        service_date=day,
        quantity=quantity,
        unit_price_minor=price.amount_minor,
        currency=price.currency,
        tax_rate_bp=tax_rate,
        created_by=created_by,
    )


async def lab_test_for(session: AsyncSession, loinc_code: str, display: str) -> BillableService:
    """The active lab test code billing `loinc_code`."""
    service = await session.scalar(
        select(BillableService).where(
            BillableService.kind == ServiceKind.LAB_TEST, BillableService.loinc_code == loinc_code
        )
    )
    if service is None or not service.active:
        raise InvalidInput(f"The lab test {loinc_code} ({display}) has no active code in the fee schedule.")
    return service
