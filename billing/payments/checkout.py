"""Card payments on the gateway's hosted page (a checkout), the way patients pay: the browser is sent
to the gateway, the card is typed there, and the browser comes back to Ownat. No card number ever
passes through Ownat, and nothing here could hold one.

The same three steps as `card.py`, so that a crash loses no acknowledged payment: the payment is
recorded pending with its amount reserved (committed); the gateway opens a checkout for it, with the
payment's id as its idempotency key (a retry gets the same page); the checkout's id and address are
recorded. The gateway's webhooks settle it: the checkout's intent carries the payment's id in its
metadata, as a directly created intent does. A checkout nobody finishes is expired by a person
(`cancel.py`) or by `ownat worker` (`expiry.py`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.exceptions import GatewayUnavailable
from billing.invoices import Invoice
from billing.payments.card import fail, lock_payment, record_pending
from billing.payments.gateway import GatewayCheckout, GatewayRejected, GatewayUnreachable, PaymentGateway
from billing.payments.models import Payment, PaymentStatus
from billing.payments.schemas import CheckoutCreate
from core.principal import Principal
from core.sessions import transaction

log = logging.getLogger(__name__)
# Stripe keeps a checkout open for at least 30 minutes; our expiry job is never sooner.
MIN_CHECKOUT_S = 1800


async def start_checkout(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    actor: Principal,
    invoice_id: uuid.UUID,
    new: CheckoutCreate,
    key: str,
    return_url: str,
    open_for_s: int,
) -> tuple[Payment, bool]:
    """Records a pending card payment and opens the gateway's page for it; returns it and whether replayed.

    The gateway sends the browser back to `return_url` with `invoice`, `payment` and `checkout`
    (`done` or `cancelled`) in its query.
    """
    payment, replayed = await record_pending(sessions, actor, invoice_id, new, key)
    if payment.status is not PaymentStatus.PENDING or payment.gateway_checkout_id is not None:
        return payment, replayed
    async with sessions() as session:
        invoice = await session.get(Invoice, payment.invoice_id)
        number = invoice.number if invoice is not None else None
    back = {"invoice": str(payment.invoice_id), "payment": str(payment.id)}
    try:
        checkout = await gateway.create_checkout(
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            description=f"Invoice {number}" if number else "Invoice",
            success_url=f"{return_url}?{urlencode({**back, 'checkout': 'done'})}",
            cancel_url=f"{return_url}?{urlencode({**back, 'checkout': 'cancelled'})}",
            expires_at=int(
                (payment.created_at + timedelta(seconds=max(open_for_s, MIN_CHECKOUT_S))).timestamp()
            ),
            idempotency_key=f"ownat-checkout-{payment.id}",
            metadata={"payment_id": str(payment.id), "invoice_id": str(payment.invoice_id)},
        )
    except GatewayUnreachable as error:
        log.warning("payment gateway unreachable opening a checkout for payment %s: %s", payment.id, error)
        raise GatewayUnavailable(
            "The payment gateway did not answer. Nothing was charged: try again with the same Idempotency-Key.",
            extra={"payment_id": str(payment.id)},
        ) from error
    except GatewayRejected as error:
        async with transaction(sessions) as session:
            return await fail(
                session, actor, payment.id, f"The gateway refused the payment: {error}"
            ), replayed
    async with transaction(sessions) as session:
        return await record_checkout(session, payment.id, checkout), replayed


async def record_checkout(session: AsyncSession, payment_id: uuid.UUID, checkout: GatewayCheckout) -> Payment:
    """Keeps the checkout of a pending payment, so that a retry or a person is sent to the same page."""
    _, payment = await lock_payment(session, payment_id)
    payment.gateway_checkout_id = checkout.id
    payment.gateway_checkout_url = checkout.url
    await session.flush()
    return payment
