"""Reading payments and refunds of an invoice, scoped like the invoice itself."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.invoices import invoice_in_scope
from billing.payments.models import Payment, Refund
from billing.payments.schemas import PaymentRead, RefundRead
from core import audit
from core.principal import Principal


async def invoice_payments(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID
) -> tuple[list[PaymentRead], list[RefundRead]]:
    """The invoice's payments and refunds, oldest first (audited)."""
    invoice = await invoice_in_scope(session, actor, invoice_id, action="read")
    payments = await session.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.created_at, Payment.id)
    )
    refunds = await session.scalars(
        select(Refund).where(Refund.invoice_id == invoice.id).order_by(Refund.created_at, Refund.id)
    )
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type="payment",
        resource_id=invoice.id,
        patient_id=invoice.patient_id,
    )
    return [PaymentRead.model_validate(p) for p in payments], [RefundRead.model_validate(r) for r in refunds]
