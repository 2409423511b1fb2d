"""Refunds, never more than is left of a payment. Cash and transfers: recorded as given back.
Card payments: reserved on the payment first (committed), then refunded through the gateway with
the refund's id as idempotency key, then settled; the webhook settles what the gateway left pending."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.access import require_manager
from billing.exceptions import GatewayUnavailable, IdempotencyKeyReused
from billing.payments import idempotency, ledger
from billing.payments.card import lock_payment
from billing.payments.gateway import GatewayRefund, GatewayRejected, GatewayUnreachable, PaymentGateway
from billing.payments.models import PaymentMethod, Refund, RefundStatus
from billing.payments.schemas import RefundCreate
from core import audit
from core.errors import Unavailable
from core.principal import Principal
from core.sessions import transaction

log = logging.getLogger(__name__)
RESOURCE = "refund"


async def refund_payment(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway | None,
    actor: Principal,
    payment_id: uuid.UUID,
    new: RefundCreate,
    key: str,
) -> tuple[Refund, bool]:
    """Gives back (part of) a payment; returns the refund and whether this was a replay."""
    refund, replayed, intent_id = await _record(sessions, actor, payment_id, new, key)
    if refund.status is not RefundStatus.PENDING or intent_id is None:
        return refund, replayed
    if gateway is None:
        raise Unavailable("Card refunds need the payment gateway, which is not configured.")
    try:
        answer = await gateway.create_refund(
            intent_id=intent_id,
            amount_minor=refund.amount_minor,
            idempotency_key=f"ownat-refund-{refund.id}",
            metadata={"refund_id": str(refund.id), "payment_id": str(payment_id)},
        )
    except GatewayUnreachable as error:
        log.warning("payment gateway unreachable for refund %s: %s", refund.id, error)
        raise GatewayUnavailable(
            "The payment gateway did not answer. The refund is recorded as pending: retry with the same "
            "Idempotency-Key.",
            extra={"refund_id": str(refund.id)},
        ) from error
    except GatewayRejected as error:
        answer = GatewayRefund(id="", status="failed", amount=refund.amount_minor, failure=str(error))
    async with transaction(sessions) as session:
        return await apply_refund(session, actor, refund.id, answer), replayed


async def apply_refund(
    session: AsyncSession, actor: Principal | None, refund_id: uuid.UUID, answer: GatewayRefund
) -> Refund:
    """Records what the gateway says about a refund: succeeded, failed, or still pending."""
    refund = await session.get(Refund, refund_id, populate_existing=True)
    assert refund is not None
    invoice, payment = await lock_payment(session, refund.payment_id)
    await session.refresh(refund, with_for_update=True)
    if refund.status is not RefundStatus.PENDING:
        return refund
    if answer.id:
        refund.gateway_refund_id = answer.id
    if answer.status == "succeeded":
        ledger.refund_settled(invoice, refund)
    elif answer.status in ("failed", "canceled"):
        ledger.refund_failed(payment, refund, reason=answer.failure or f"The refund was {answer.status}.")
    await session.flush()
    if refund.status is not RefundStatus.PENDING:
        audit.record(
            session,
            actor=actor,
            action="settle",
            resource_type=RESOURCE,
            resource_id=refund.id,
            patient_id=invoice.patient_id,
            detail={"status": refund.status.value},
        )
    return refund


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    actor: Principal,
    payment_id: uuid.UUID,
    new: RefundCreate,
    key: str,
) -> tuple[Refund, bool, str | None]:
    fingerprint = idempotency.request_hash(payment_id, new.model_dump(mode="json"))
    async with transaction(sessions) as session:
        require_manager(session, actor, action="create", resource_type=RESOURCE, resource_id=payment_id)
        invoice, payment = await lock_payment(session, payment_id)
        earlier = await idempotency.replay(session, Refund, actor=actor, key=key, fingerprint=fingerprint)
        if earlier is not None:
            return earlier, True, payment.gateway_intent_id
        ledger.check_refundable(payment, amount_minor=new.amount_minor, currency=new.currency)
        refund = Refund(
            payment_id=payment.id,
            invoice_id=invoice.id,
            status=RefundStatus.PENDING,
            amount_minor=new.amount_minor,
            currency=new.currency,
            reason=new.reason,
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=actor.user_id,
        )
        # Reserved at once, so that two refunds in flight can never add up to more than was paid.
        payment.refunded_minor += new.amount_minor
        try:
            async with session.begin_nested():
                session.add(refund)
        except IntegrityError as error:
            raise IdempotencyKeyReused("A concurrent request is using this Idempotency-Key.") from error
        if payment.method is not PaymentMethod.CARD:
            ledger.refund_settled(invoice, refund)
        await session.flush()
        audit.record(
            session,
            actor=actor,
            action="create",
            resource_type=RESOURCE,
            resource_id=refund.id,
            patient_id=invoice.patient_id,
            detail={"payment_id": str(payment.id), "amount_minor": new.amount_minor},
        )
        return refund, False, payment.gateway_intent_id if payment.method is PaymentMethod.CARD else None
