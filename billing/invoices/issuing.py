"""Issuing and voiding. Numbers come from a per-year counter row locked by the issuing transaction,
so a number is used exactly when its invoice commits: no gaps, no duplicates."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.charges import ChargeItem
from billing.exceptions import InvoiceNotEditable
from billing.invoices.loading import lock_invoice, require_draft
from billing.invoices.models import Invoice, InvoiceCounter, InvoiceStatus
from billing.invoices.totals import settle_status, total_invoice
from core import audit, outbox
from core.db import utc_now
from core.errors import InvalidInput
from core.principal import Principal

RESOURCE = "invoice"


def invoice_number(year: int, sequence: int) -> str:
    """The printed number: INV-2026-000123."""
    return f"INV-{year}-{sequence:06d}"


async def next_number(session: AsyncSession, year: int) -> str:
    """Takes the year's next number; the counter row stays locked until the transaction ends."""
    for _ in range(2):
        sequence = await session.scalar(
            update(InvoiceCounter)
            .where(InvoiceCounter.year == year)
            .values(last_number=InvoiceCounter.last_number + 1)
            .returning(InvoiceCounter.last_number)
        )
        if sequence is not None:
            return invoice_number(year, sequence)
        try:  # the year's first invoice: create its counter (a concurrent issuer may win; then retry)
            async with session.begin_nested():
                session.add(InvoiceCounter(year=year, last_number=0))
        except IntegrityError:
            continue
    raise RuntimeError("the invoice counter row could not be created or locked")


async def issue_invoice(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, payment_terms_days: int
) -> Invoice:
    """Freezes a draft's totals, numbers it and makes it payable; the patient can now see it."""
    require_manager(session, actor, action="issue", resource_type=RESOURCE, resource_id=invoice_id)
    invoice = await lock_invoice(session, invoice_id)
    require_draft(invoice)
    if not invoice.lines:
        raise InvalidInput("An invoice without lines cannot be issued.")
    total_invoice(invoice)
    now = utc_now()
    invoice.number = await next_number(session, now.year)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_at = now
    invoice.due_date = (now + timedelta(days=payment_terms_days)).date()
    settle_status(invoice)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="issue",
        resource_type=RESOURCE,
        resource_id=invoice.id,
        patient_id=invoice.patient_id,
        detail={"number": invoice.number, "total_minor": invoice.total_minor},
    )
    # The patient is told in the same transaction: a rolled-back issue notifies nobody.
    outbox.record(
        session,
        event_type=outbox.EventType.INVOICE_ISSUED,
        invoice_id=invoice.id,
        patient_id=invoice.patient_id,
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
    )
    return invoice


async def void_invoice(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, reason: str
) -> Invoice:
    """Cancels an issued invoice nothing was paid on; its number stays used and its charges free again."""
    require_manager(session, actor, action="void", resource_type=RESOURCE, resource_id=invoice_id)
    invoice = await lock_invoice(session, invoice_id)
    if invoice.status is InvoiceStatus.DRAFT:
        raise InvoiceNotEditable("A draft has no number to cancel; delete it instead.")
    if invoice.status is InvoiceStatus.VOID:
        raise InvoiceNotEditable(f"Invoice {invoice.number} is already void.")
    if invoice.paid_minor or invoice.pending_minor:
        raise InvoiceNotEditable(
            f"Invoice {invoice.number} has payments ({invoice.paid_minor + invoice.pending_minor} received or "
            "in flight); refund them before voiding."
        )
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = utc_now()
    invoice.void_reason = reason
    for charge in await session.scalars(select(ChargeItem).where(ChargeItem.invoice_id == invoice.id)):
        charge.invoice_id = None
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="void",
        resource_type=RESOURCE,
        resource_id=invoice.id,
        patient_id=invoice.patient_id,
        detail={"number": invoice.number, "reason": reason},
    )
    return invoice
