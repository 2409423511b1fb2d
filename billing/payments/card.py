"""Card payments through the gateway, in three steps so that a crash loses no acknowledged payment:

1. record the payment as pending and reserve its amount on the invoice (committed);
2. ask the gateway for a payment intent, with the payment's id as the gateway's idempotency key;
3. record the intent and, if the gateway already says so, settle or fail it (committed).
The gateway's webhook settles whatever step 3 left pending. A retry with the same Idempotency-Key
after a failure in step 2 resumes there, and the gateway returns the intent it already created.
These steps own their transactions (the request cannot: step 1 must commit before the call).
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.access import not_found
from billing.exceptions import GatewayUnavailable, IdempotencyKeyReused
from billing.invoices import Invoice, invoice_in_scope, lock_invoice
from billing.payments import idempotency, ledger
from billing.payments.gateway import GatewayIntent, GatewayRejected, GatewayUnreachable, PaymentGateway
from billing.payments.models import Payment, PaymentMethod, PaymentStatus
from billing.payments.schemas import CheckoutCreate, PaymentCreate
from core import audit
from core.errors import InvalidInput
from core.principal import Principal
from core.sessions import transaction

log = logging.getLogger(__name__)
RESOURCE = "payment"


async def pay_by_card(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    actor: Principal,
    invoice_id: uuid.UUID,
    new: PaymentCreate,
    key: str,
) -> tuple[Payment, bool]:
    """Charges a card for (part of) an invoice; returns the payment and whether this was a replay."""
    payment, replayed = await record_pending(sessions, actor, invoice_id, new, key)
    if payment.status is not PaymentStatus.PENDING or payment.gateway_intent_id is not None:
        return payment, replayed
    try:
        intent = await gateway.create_payment_intent(
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            idempotency_key=f"ownat-payment-{payment.id}",
            metadata={"payment_id": str(payment.id), "invoice_id": str(payment.invoice_id)},
            payment_method=new.payment_method,
        )
    except GatewayUnreachable as error:
        log.warning("payment gateway unreachable for payment %s: %s", payment.id, error)
        raise GatewayUnavailable(
            "The payment gateway did not answer. The payment is recorded as pending and nothing more will be "
            "charged: retry with the same Idempotency-Key.",
            extra={"payment_id": str(payment.id)},
        ) from error
    except GatewayRejected as error:
        intent = None
        reason = f"The gateway refused the payment: {error}"
    async with transaction(sessions) as session:
        if intent is None:
            return await fail(session, actor, payment.id, reason), replayed
        return await apply_intent(session, actor, payment.id, intent), replayed


async def apply_intent(
    session: AsyncSession, actor: Principal | None, payment_id: uuid.UUID, intent: GatewayIntent
) -> Payment:
    """Records what the gateway says about the payment's intent: settled, failed, or still pending."""
    invoice, payment = await lock_payment(session, payment_id)
    if intent.amount != payment.amount_minor or intent.currency != payment.currency:
        raise InvalidInput(f"The gateway's intent {intent.id} does not match payment {payment.id}.")
    payment.gateway_intent_id = intent.id
    payment.gateway_client_secret = intent.client_secret
    if intent.succeeded:
        changed = ledger.settle(invoice, payment)
    elif intent.failed:
        changed = ledger.release(
            invoice, payment, reason=intent.failure or f"The payment was {intent.status}."
        )
    else:
        changed = False
    await session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="settle",
            resource_type=RESOURCE,
            resource_id=payment.id,
            patient_id=payment.patient_id,
            detail={"status": payment.status.value, "intent": intent.id},
        )
    return payment


async def record_pending(
    sessions: async_sessionmaker[AsyncSession],
    actor: Principal,
    invoice_id: uuid.UUID,
    new: PaymentCreate | CheckoutCreate,
    key: str,
) -> tuple[Payment, bool]:
    """Step 1 of every card payment: pending, its amount reserved (committed); or the earlier one of `key`."""
    fingerprint = idempotency.request_hash(invoice_id, new.model_dump(mode="json"))
    async with transaction(sessions) as session:
        invoice = await invoice_in_scope(session, actor, invoice_id, action="pay", for_update=True)
        earlier = await idempotency.replay(session, Payment, actor=actor, key=key, fingerprint=fingerprint)
        if earlier is not None:
            return earlier, True
        ledger.check_payable(invoice, amount_minor=new.amount_minor, currency=new.currency)
        payment = Payment(
            invoice_id=invoice.id,
            patient_id=invoice.patient_id,
            method=PaymentMethod.CARD,
            status=PaymentStatus.PENDING,
            amount_minor=new.amount_minor,
            currency=new.currency,
            refunded_minor=0,
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=actor.user_id,
        )
        ledger.reserve(invoice, payment)
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
            detail={"invoice_id": str(invoice.id), "method": "card", "amount_minor": new.amount_minor},
        )
        return payment, False


async def fail(session: AsyncSession, actor: Principal | None, payment_id: uuid.UUID, reason: str) -> Payment:
    """Releases a pending card payment the gateway refused, with the gateway's reason."""
    invoice, payment = await lock_payment(session, payment_id)
    if ledger.release(invoice, payment, reason=reason):
        await session.flush()
        audit.record(
            session,
            actor=actor,
            action="settle",
            resource_type=RESOURCE,
            resource_id=payment.id,
            patient_id=payment.patient_id,
            detail={"status": "failed"},
        )
    return payment


async def lock_payment(session: AsyncSession, payment_id: uuid.UUID) -> tuple[Invoice, Payment]:
    """The payment and its invoice, both locked, the invoice first (the order every writer uses)."""
    invoice_id = await session.scalar(select(Payment.invoice_id).where(Payment.id == payment_id))
    if invoice_id is None:
        raise not_found("payment", payment_id)
    invoice = await lock_invoice(session, invoice_id)
    payment = await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert payment is not None  # payments are never deleted
    return invoice, payment
