"""The fee schedule: codes and their dated prices, and the price of a code on a given day."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import CHARGERS, not_found, require_manager
from billing.exceptions import CurrencyMismatch, NoPrice, PriceOverlap
from billing.fees.models import BillableService, ServiceKind, ServicePrice
from billing.fees.schemas import PriceCreate, PriceRead, ServiceCreate, ServiceRead, ServiceUpdate
from core import audit
from core.access import require_role
from core.errors import Conflict
from core.principal import Principal

RESOURCE = "billing_service"


async def create_service(*, session: AsyncSession, actor: Principal, new: ServiceCreate) -> BillableService:
    """Adds a code to the fee schedule; codes and linked LOINC codes are unique."""
    require_manager(session, actor, action="create", resource_type=RESOURCE)
    if new.kind is ServiceKind.CONSULTATION:
        await _refuse_band_overlap(session, new.min_duration_min or 0, new.max_duration_min)
    service = BillableService(**new.model_dump())
    try:
        async with session.begin_nested():
            session.add(service)
    except IntegrityError as error:
        raise Conflict(f"The code {new.code} (or its LOINC code) is already in the fee schedule.") from error
    audit.record(session, actor=actor, action="create", resource_type=RESOURCE, resource_id=service.id)
    return service


async def update_service(
    *, session: AsyncSession, actor: Principal, service_id: uuid.UUID, changes: ServiceUpdate
) -> BillableService:
    """Renames or (de)activates a code; prices and past charges are untouched."""
    require_manager(session, actor, action="update", resource_type=RESOURCE, resource_id=service_id)
    service = await _service(session, service_id)
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(service, field, value)
    await session.flush()
    audit.record(session, actor=actor, action="update", resource_type=RESOURCE, resource_id=service_id)
    return service


async def add_price(
    *, session: AsyncSession, actor: Principal, service_id: uuid.UUID, new: PriceCreate, currency: str
) -> ServicePrice:
    """Adds a dated price in the organisation's currency; a price overlapping another is refused."""
    require_manager(session, actor, action="create", resource_type="billing_price", resource_id=service_id)
    if new.currency != currency:
        raise CurrencyMismatch(f"Prices are in the organisation's currency {currency}, not {new.currency}.")
    service = await _service(session, service_id, for_update=True)
    if await _overlapping(session, service.id, new.valid_from, new.valid_to):
        raise PriceOverlap(f"{service.code} already has a price in that period; end it first.")
    price = ServicePrice(service_id=service.id, **new.model_dump())
    try:
        async with session.begin_nested():
            session.add(price)
    except IntegrityError as error:  # the exclusion constraint, should a writer bypass the lock
        raise PriceOverlap(f"{service.code} already has a price in that period; end it first.") from error
    audit.record(session, actor=actor, action="create", resource_type="billing_price", resource_id=price.id)
    return price


async def list_services(
    *, session: AsyncSession, actor: Principal, kind: ServiceKind | None = None
) -> list[ServiceRead]:
    """The fee schedule with its prices, for those who charge (managers and clinicians)."""
    require_role(session, actor, CHARGERS, action="list", resource_type=RESOURCE)
    query = select(BillableService).order_by(BillableService.code)
    if kind is not None:
        query = query.where(BillableService.kind == kind)
    services = list(await session.scalars(query))
    prices = await session.scalars(select(ServicePrice).order_by(ServicePrice.valid_from))
    by_service: dict[uuid.UUID, list[ServicePrice]] = {}
    for price in prices:
        by_service.setdefault(price.service_id, []).append(price)
    return [
        ServiceRead.model_validate(s).model_copy(
            update={"prices": [PriceRead.model_validate(p) for p in by_service.get(s.id, [])]}
        )
        for s in services
    ]


async def price_on(session: AsyncSession, service: BillableService, day: date) -> ServicePrice:
    """The price in force on `day`; NoPrice if there is none."""
    price = await session.scalar(
        select(ServicePrice).where(
            ServicePrice.service_id == service.id,
            ServicePrice.valid_from <= day,
            or_(ServicePrice.valid_to.is_(None), ServicePrice.valid_to > day),
        )
    )
    if price is None:
        raise NoPrice(f"{service.code} ({service.display}) has no price on {day.isoformat()}.")
    return price


async def _overlapping(session: AsyncSession, service_id: uuid.UUID, start: date, end: date | None) -> bool:
    query = select(ServicePrice.id).where(
        ServicePrice.service_id == service_id,
        or_(ServicePrice.valid_to.is_(None), ServicePrice.valid_to > start),
    )
    if end is not None:
        query = query.where(ServicePrice.valid_from < end)
    return (await session.scalar(query.limit(1))) is not None


async def _refuse_band_overlap(session: AsyncSession, low: int, high: int | None) -> None:
    """Each duration maps to one consultation type: active bands may not overlap."""
    query = select(BillableService).where(
        BillableService.kind == ServiceKind.CONSULTATION,
        BillableService.active.is_(True),
        or_(BillableService.max_duration_min.is_(None), BillableService.max_duration_min > low),
    )
    if high is not None:
        query = query.where(BillableService.min_duration_min < high)
    if (other := await session.scalar(query.limit(1))) is not None:
        raise Conflict(
            f"The duration band overlaps the consultation type {other.code}; change or retire it first."
        )


async def _service(
    session: AsyncSession, service_id: uuid.UUID, *, for_update: bool = False
) -> BillableService:
    query = select(BillableService).where(BillableService.id == service_id)
    if for_update:
        query = query.with_for_update()
    service = await session.scalar(query)
    if service is None:
        raise not_found("billable service", service_id)
    return service
