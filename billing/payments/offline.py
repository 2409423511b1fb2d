"""Cash and bank transfers, recorded by billing staff: received the moment they are recorded."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.exceptions import IdempotencyKeyReused
from billing.invoices import lock_invoice
from billing.payments import idempotency, ledger
from billing.payments.models import Payment, PaymentMethod, PaymentStatus
from billing.payments.schemas import PaymentCreate
from core import audit
from core.errors import InvalidInput
from core.principal import Principal

RESOURCE = "payment"


async def record_offline_payment(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, new: PaymentCreate, key: str
) -> tuple[Payment, bool]:
    """Records cash or a transfer; returns the payment and whether it is a replay of an earlier request."""
    require_manager(session, actor, action="create", resource_type=RESOURCE, resource_id=invoice_id)
    if new.method is PaymentMethod.CARD or new.payment_method is not None:
        raise InvalidInput("Card payments go through the gateway; record only cash or bank transfers here.")
    fingerprint = idempotency.request_hash(invoice_id, new.model_dump(mode="json"))
    invoice = await lock_invoice(session, invoice_id)
    if (
        earlier := await idempotency.replay(session, Payment, actor=actor, key=key, fingerprint=fingerprint)
    ) is not None:
        return earlier, True
    ledger.check_payable(invoice, amount_minor=new.amount_minor, currency=new.currency)
    payment = Payment(
        invoice_id=invoice.id,
        patient_id=invoice.patient_id,
        method=new.method,
        status=PaymentStatus.PENDING,
        amount_minor=new.amount_minor,
        currency=new.currency,
        refunded_minor=0,
        reference=new.reference,
        idempotency_key=key,
        request_hash=fingerprint,
        created_by=actor.user_id,
    )
    ledger.receive_now(invoice, payment)
    try:
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError as error:
        raise IdempotencyKeyReused("A concurrent request is using this Idempotency-Key.") from error
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type=RESOURCE,
        resource_id=payment.id,
        patient_id=invoice.patient_id,
        detail={"invoice_id": str(invoice.id), "method": new.method.value, "amount_minor": new.amount_minor},
    )
    return payment, False
