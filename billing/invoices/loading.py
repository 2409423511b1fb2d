"""Loading one invoice, locked when it is about to change: every money change goes through here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import not_found, require_billing_scope
from billing.exceptions import InvoiceNotEditable
from billing.invoices.models import Invoice, InvoiceStatus
from core.principal import Principal


async def lock_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    """The invoice, row-locked until the transaction ends, read afresh from the database.

    The lock is what keeps two payments from both seeing the same balance (PostgreSQL; SQLite's
    transactions are serial already).
    """
    invoice = await session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invoice is None:
        raise not_found("invoice", invoice_id)
    return invoice


async def invoice_in_scope(
    session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, *, action: str, for_update: bool = False
) -> Invoice:
    """The invoice if the caller may see it; a patient never sees drafts (they are not bills yet)."""
    found = await lock_invoice(session, invoice_id) if for_update else await session.get(Invoice, invoice_id)
    if found is None:
        raise not_found("invoice", invoice_id)
    invoice = found
    require_billing_scope(
        session, actor, invoice.patient_id, action=action, resource_type="invoice", resource_id=invoice_id
    )
    if invoice.status is InvoiceStatus.DRAFT and actor.patient_id is not None:
        raise not_found("invoice", invoice_id)
    return invoice


def require_draft(invoice: Invoice) -> None:
    """InvoiceNotEditable unless the invoice is still a draft."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise InvoiceNotEditable(
            f"Invoice {invoice.number} is {invoice.status.value}; issued invoices are not edited "
            "(void it and invoice the charges again)."
        )
