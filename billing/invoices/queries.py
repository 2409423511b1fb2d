"""Reading invoices: one, or a page of billing history newest first, scoped by the caller."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_billing_scope, require_manager
from billing.invoices.loading import invoice_in_scope
from billing.invoices.models import Invoice, InvoiceStatus
from billing.invoices.schemas import InvoiceRead
from billing.invoices.views import invoice_views
from core import audit
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import Principal

RESOURCE = "invoice"


async def get_invoice(*, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID) -> Invoice:
    """One invoice with its lines, if the caller may see it (audited)."""
    invoice = await invoice_in_scope(session, actor, invoice_id, action="read")
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type=RESOURCE,
        resource_id=invoice.id,
        patient_id=invoice.patient_id,
    )
    return invoice


async def list_invoices(
    *,
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID | None = None,
    status: InvoiceStatus | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[InvoiceRead]:
    """Billing history newest first: a patient's own (never drafts), or any patient's for managers."""
    if actor.patient_id is not None and patient_id is None:
        patient_id = actor.patient_id
    if patient_id is None:
        require_manager(session, actor, action="list", resource_type=RESOURCE)
    else:
        require_billing_scope(session, actor, patient_id, action="list", resource_type=RESOURCE)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Invoice)
    if patient_id is not None:
        query = query.where(Invoice.patient_id == patient_id)
    if actor.patient_id is not None:
        query = query.where(Invoice.status != InvoiceStatus.DRAFT)
    if status is not None:
        query = query.where(Invoice.status == status)
    query = newest_first(
        query, time_column=Invoice.created_at, id_column=Invoice.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type=RESOURCE,
        patient_id=patient_id,
        detail={"invoice_ids": [str(r.id) for r in rows]},
    )
    last = rows[-1] if rows and more else None
    return Page(
        items=await invoice_views(session, rows),
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )
