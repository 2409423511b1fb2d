"""Cancelling a card payment nobody finished (a browser closed before confirming), so that its
reservation stops holding the invoice's balance. The gateway cancels first; only then is it released."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.access import require_billing_scope
from billing.exceptions import GatewayUnavailable
from billing.payments.card import apply_intent, lock_payment
from billing.payments.gateway import GatewayRejected, GatewayUnreachable, PaymentGateway
from billing.payments.models import Payment, PaymentStatus
from core.errors import Conflict
from core.identity.principal import Principal
from core.sessions import transaction


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
        if payment.gateway_intent_id is None:
            raise Conflict(
                "The gateway's answer for this payment is not known yet: retry the payment with its "
                "Idempotency-Key first, then cancel it."
            )
        intent_id = payment.gateway_intent_id
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
