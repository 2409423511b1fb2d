"""Settling card payments nobody finished: still pending after `OWNAT_PAYMENT_PENDING_EXPIRY_S`, no
webhook having come, their reservation holding the invoice's balance.

`ownat worker` runs `run_payment_expiry` on a slow beat. The gateway is asked for each intent's (or
checkout's: a payment on the gateway's page) current state first: a success is recorded as the webhook records it, a payment still processing is
left to its webhook, anything else is cancelled at the gateway (with cancel.py's idempotency key, so a
person cancelling at the same moment makes one cancellation) and then released. A payment whose
intent was never recorded (the answer to its creation was lost, and no webhook followed within the
expiry) is released with a reason: if the card was charged after all, the webhook still counts the
money, because `ledger.settle` accepts a success arriving after a release.

One payment per transaction, claimed by locking its invoice with SKIP LOCKED and holding that lock
through the gateway calls: a second worker skips it, and its webhook waits instead of deadlocking,
since every writer locks the invoice before the payment. The price is that the invoice waits for at
most two gateway calls, each bounded by `OWNAT_PAYMENT_GATEWAY_TIMEOUT_S`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.invoices import Invoice
from billing.payments import ledger
from billing.payments.card import RESOURCE, apply_intent, fail, lock_payment
from billing.payments.gateway import (
    GatewayRejected,
    GatewayUnreachable,
    PaymentGateway,
    gateway_from_settings,
)
from billing.payments.models import Payment, PaymentMethod, PaymentStatus
from core import audit
from core.errors import InvalidInput
from core.principal import SYSTEM
from core.resources import Resources
from core.sessions import transaction

log = logging.getLogger(__name__)
# What one pass did; "left" stays pending for a later pass (gateway away or refusing, still processing).
OUTCOMES = ("settled", "cancelled", "released", "left", "already_settled")


async def run_payment_expiry(resources: Resources, *, now: datetime) -> dict[str, int]:
    """One pass with the configured gateway and expiry; nothing to do when card payments are off."""
    gateway = gateway_from_settings(resources.settings)
    if gateway is None:
        return {}
    return await settle_abandoned_payments(
        sessions=resources.sessions,
        gateway=gateway,
        expiry_s=resources.settings.payment_pending_expiry_s,
        now=now,
    )


async def settle_abandoned_payments(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    expiry_s: int,
    now: datetime,
    limit: int = 50,
) -> dict[str, int]:
    """Settles up to `limit` card payments pending for longer than `expiry_s`; counts the outcomes."""
    cutoff = now - timedelta(seconds=expiry_s)
    tally = dict.fromkeys(OUTCOMES, 0)
    tried: list[uuid.UUID] = []  # a payment left pending is not claimed again in the same pass
    while len(tried) < limit:
        async with transaction(sessions) as session:
            payment_id = await _claim_next(session, cutoff=cutoff, skip=tried)
            if payment_id is None:
                break
            tried.append(payment_id)
            try:
                outcome = await _settle(session, gateway, payment_id, expiry_s=expiry_s)
            except GatewayUnreachable as error:
                # The others would wait for the same timeout: the whole pass stops until the next one.
                log.warning("payment gateway unreachable settling payment %s: %s", payment_id, error)
                tally["left"] += 1
                break
        tally[outcome] += 1
    return tally


async def _claim_next(session: AsyncSession, *, cutoff: datetime, skip: list[uuid.UUID]) -> uuid.UUID | None:
    # Locking the invoice, not the payment, keeps the order every writer uses (invoice, then payment).
    return await session.scalar(
        select(Payment.id)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Payment.method == PaymentMethod.CARD,
            Payment.status == PaymentStatus.PENDING,
            Payment.created_at < cutoff,
            Payment.id.not_in(skip),
        )
        .order_by(Payment.created_at)
        .limit(1)
        .with_for_update(of=Invoice, skip_locked=True)
    )


async def _settle(
    session: AsyncSession, gateway: PaymentGateway, payment_id: uuid.UUID, *, expiry_s: int
) -> str:
    invoice, payment = await lock_payment(session, payment_id)
    if payment.status is not PaymentStatus.PENDING:
        return "already_settled"  # a webhook or a person got there between the claim and the lock
    reason = f"Not confirmed within {expiry_s // 60} minutes: cancelled automatically."
    if payment.gateway_checkout_id is not None:
        return await _settle_checkout(session, gateway, payment, payment.gateway_checkout_id, reason=reason)
    if payment.gateway_intent_id is None:
        return _release_unknown_intent(session, invoice, payment, expiry_s=expiry_s)
    intent_id = payment.gateway_intent_id
    try:
        intent = await gateway.retrieve_payment_intent(intent_id=intent_id)
        if intent.status == "processing":
            # The card network has it; cancelling is refused now, and the webhook will say how it ended.
            log.info(
                "abandoned payment %s is still processing at the gateway; left to its webhook", payment_id
            )
            return "left"
        if not intent.succeeded and intent.status != "canceled":
            intent = await gateway.cancel_payment_intent(
                intent_id=intent_id, idempotency_key=f"ownat-cancel-{payment_id}"
            )
            intent = intent.model_copy(update={"failure": reason})
    except GatewayRejected as error:
        # Typically confirmed between our two calls (a success cannot be cancelled): the next pass reads it.
        log.warning("the gateway refused settling abandoned payment %s: %s", payment_id, error)
        return "left"
    try:
        payment = await apply_intent(session, SYSTEM, payment_id, intent)
    except InvalidInput:
        log.exception("the gateway's intent for payment %s does not match it; left for a person", payment_id)
        return "left"
    if payment.status is PaymentStatus.SUCCEEDED:
        return "settled"
    return "cancelled" if payment.status is PaymentStatus.FAILED else "left"


async def _settle_checkout(
    session: AsyncSession, gateway: PaymentGateway, payment: Payment, checkout_id: str, *, reason: str
) -> str:
    # Paid on the gateway's page without a webhook reaching us: counted; otherwise the page is closed.
    try:
        checkout = await gateway.retrieve_checkout(checkout_id=checkout_id)
        if checkout.status == "open":
            checkout = await gateway.expire_checkout(
                checkout_id=checkout_id, idempotency_key=f"ownat-cancel-{payment.id}"
            )
    except GatewayRejected as error:
        log.warning("the gateway refused settling abandoned checkout payment %s: %s", payment.id, error)
        return "left"
    if (intent := checkout.paid_intent()) is not None:
        await apply_intent(session, SYSTEM, payment.id, intent)
        return "settled"
    if checkout.status != "expired":
        return "left"
    await fail(session, SYSTEM, payment.id, reason)
    return "cancelled"


def _release_unknown_intent(
    session: AsyncSession, invoice: Invoice, payment: Payment, *, expiry_s: int
) -> str:
    reason = (
        f"The payment gateway's answer never reached us within {expiry_s // 60} minutes: released "
        "automatically. If the card was charged, the gateway's webhook still records the payment."
    )
    ledger.release(invoice, payment, reason=reason)
    audit.record(
        session,
        actor=SYSTEM,
        action="settle",
        resource_type=RESOURCE,
        resource_id=payment.id,
        patient_id=payment.patient_id,
        detail={"status": "failed", "reason": "expired without a gateway intent"},
    )
    return "released"
