"""Cancelling a card payment nobody finished (a browser closed before confirming, a patient back from
the gateway's page without paying), so that its reservation stops holding the invoice's balance. The
gateway cancels first (the intent, or the checkout page); only then is it released."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.access import require_billing_scope
from billing.exceptions import GatewayUnavailable
from billing.payments.card import apply_intent, fail, lock_payment
from billing.payments.gateway import (
    GatewayCheckout,
    GatewayRejected,
    GatewayUnreachable,
    PaymentGateway,
)
from billing.payments.models import Payment, PaymentStatus
from core.errors import Conflict
from core.principal import Principal
from core.sessions import transaction

CANCELLED = "Cancelled before paying; nothing was charged."


async def cancel_card_payment(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    actor: Principal,
    payment_id: uuid.UUID,
) -> Payment:
    """Cancels a pending card payment at the gateway and releases its reservation."""
    async with transaction(sessions) as session:
        _, payment = await lock_payment(session, payment_id)
        require_billing_scope(
            session,
            actor,
            payment.patient_id,
            action="cancel",
            resource_type="payment",
            resource_id=payment_id,
        )
        if payment.status is not PaymentStatus.PENDING:
            raise Conflict(
                f"This payment is {payment.status.value}; only pending card payments are cancelled."
            )
        checkout_id, intent_id = payment.gateway_checkout_id, payment.gateway_intent_id
        if checkout_id is None and intent_id is None:
            raise Conflict(
                "The gateway's answer for this payment is not known yet: retry the payment with its "
                "Idempotency-Key first, then cancel it."
            )
    if checkout_id is not None:
        return await _close_checkout(sessions, gateway, actor, payment_id, checkout_id)
    assert intent_id is not None
    try:
        intent = await gateway.cancel_payment_intent(
            intent_id=intent_id, idempotency_key=f"ownat-cancel-{payment_id}"
        )
    except GatewayUnreachable as error:
        raise GatewayUnavailable(
            "The payment gateway did not answer; nothing was cancelled, try again."
        ) from error
    except GatewayRejected as error:
        raise Conflict(
            f"The gateway did not cancel the payment ({error}); its webhook will settle it."
        ) from error
    async with transaction(sessions) as session:
        return await apply_intent(session, actor, payment_id, intent)


async def _close_checkout(
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    actor: Principal,
    payment_id: uuid.UUID,
    checkout_id: str,
) -> Payment:
    # Expiring the gateway's page ends every attempt on it; one completed meanwhile is counted instead.
    try:
        checkout = await gateway.expire_checkout(
            checkout_id=checkout_id, idempotency_key=f"ownat-cancel-{payment_id}"
        )
    except GatewayRejected:
        checkout = await _read_checkout(gateway, checkout_id)
    except GatewayUnreachable as error:
        raise GatewayUnavailable(
            "The payment gateway did not answer; nothing was cancelled, try again."
        ) from error
    async with transaction(sessions) as session:
        if (intent := checkout.paid_intent()) is not None:
            return await apply_intent(session, actor, payment_id, intent)
        if checkout.status != "expired":
            raise Conflict(
                "The payment page is still in use at the gateway; its webhook will settle the payment."
            )
        return await fail(session, actor, payment_id, CANCELLED)


async def _read_checkout(gateway: PaymentGateway, checkout_id: str) -> GatewayCheckout:
    try:
        return await gateway.retrieve_checkout(checkout_id=checkout_id)
    except (GatewayUnreachable, GatewayRejected) as error:
        raise GatewayUnavailable(
            "The payment gateway did not answer; nothing was cancelled, try again."
        ) from error
