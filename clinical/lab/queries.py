"""Reading lab orders and results, scoped by the caller.

A patient gets only their own orders, and of their results only the current, released ones
(final or corrected): a preliminary value is for the clinicians until the laboratory verifies it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab.display import ExplainedResult, explain
from clinical.lab.exceptions import LabOrderNotFound
from clinical.lab.models import LabOrder, LabResult
from clinical.lab.schemas import (
    LabOrderItemRead,
    LabOrderRead,
    LabOrderSummary,
    LabResultRead,
)
from clinical.lab.terms import OrderStatus
from core import audit
from core.access import require_patient_scope
from core.paging import Page, encode_cursor, newest_first, split_page
from core.principal import Principal

MAX_PAGE_SIZE = 100


def _require_scope(
    session: AsyncSession, principal: Principal, patient_id: uuid.UUID, resource_id: object
) -> None:
    require_patient_scope(
        session,
        principal,
        patient_id,
        action="read",
        resource_type="lab_order",
        resource_id=resource_id,
        message="Patients may only see their own lab orders.",
    )


def summary(order: LabOrder) -> LabOrderSummary:
    """The order without its results."""
    return LabOrderSummary.model_validate(
        {**_columns(order), "tests": [item.loinc_code for item in order.items]}
    )


def _columns(order: LabOrder) -> dict[str, object]:
    return {name: getattr(order, name) for name in LabOrderSummary.model_fields if name != "tests"}


async def order_view(session: AsyncSession, principal: Principal, order: LabOrder) -> LabOrderRead:
    """The order with, per test, the current result the caller may see (and the history, for staff)."""
    rows = await session.scalars(
        select(LabResult).where(LabResult.order_id == order.id).order_by(LabResult.created_at.desc())
    )
    by_item: dict[uuid.UUID, list[LabResult]] = defaultdict(list)
    for row in rows:
        by_item[row.order_item_id].append(row)
    items = []
    for item in order.items:
        results = by_item.get(item.id, [])
        current = next((r for r in results if r.superseded_at is None), None)
        if current is not None and not principal.is_staff and not current.status.is_released:
            current = None
        history = [r for r in results if r.superseded_at is not None] if principal.is_staff else []
        items.append(
            LabOrderItemRead(
                id=item.id,
                loinc_code=item.loinc_code,
                display=item.display,
                specimen=item.specimen,
                unit=item.unit,
                result=LabResultRead.model_validate(current) if current else None,
                explained=_explained(item.loinc_code, item.display, current) if current else None,
                history=[LabResultRead.model_validate(r) for r in history],
            )
        )
    return LabOrderRead.model_validate({**summary(order).model_dump(), "items": items})


def _explained(loinc_code: str, name: str, result: LabResult) -> ExplainedResult:
    return explain(
        loinc_code=loinc_code,
        recorded_name=name,
        value=result.value,
        unit=result.unit,
        reference_low=result.reference_low,
        reference_high=result.reference_high,
        reference_text=result.reference_text,
        abnormal_flag=result.abnormal_flag,
    )


async def get_order(*, session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> LabOrderRead:
    """One order with its results, if the caller may see its patient."""
    order = await session.get(LabOrder, order_id)
    if order is None:
        raise LabOrderNotFound(f"There is no lab order with id {order_id}.")
    _require_scope(session, principal, order.patient_id, order.id)
    view = await order_view(session, principal, order)
    audit.record(
        session,
        actor=principal,
        action="read",
        resource_type="lab_order",
        resource_id=order.id,
        patient_id=order.patient_id,
        detail={"results": sum(1 for item in view.items if item.result)},
    )
    return view


async def list_orders(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[LabOrderSummary]:
    """Orders newest first; a patient's list is always their own."""
    if not principal.is_staff:
        own = principal.patient_id
        if own is None or (patient_id is not None and patient_id != own):
            _require_scope(session, principal, patient_id or uuid.UUID(int=0), None)
        patient_id = own
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(LabOrder)
    if patient_id is not None:
        query = query.where(LabOrder.patient_id == patient_id)
    if status is not None:
        query = query.where(LabOrder.status == status)
    query = newest_first(
        query, time_column=LabOrder.created_at, id_column=LabOrder.id, cursor=cursor, limit=limit
    )
    page, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(
        session,
        principal,
        page,
        action="list",
        resource_type="lab_order",
        ids_key="order_ids",
        patient_id=patient_id,
    )
    return Page(
        items=[summary(order) for order in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )
