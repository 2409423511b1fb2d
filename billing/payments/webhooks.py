"""The gateway's webhook: signature checked (HMAC-SHA256 over "timestamp.body", Stripe's scheme, with
a tolerance on the timestamp against replays), each event handled once, payments and refunds settled,
checkouts (the gateway's payment page) completed or expired."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.exceptions import BadSignature
from billing.payments.card import apply_intent, fail
from billing.payments.gateway import GatewayIntent, GatewayRefund, checkout_from_body
from billing.payments.models import GatewayEvent, Payment, Refund
from billing.payments.refunds import apply_refund
from core.errors import InvalidInput

log = logging.getLogger(__name__)
INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}
REFUND_EVENTS = {"refund.updated", "refund.failed", "charge.refund.updated"}
CHECKOUT_EVENTS = {"checkout.session.completed", "checkout.session.expired"}
CHECKOUT_EXPIRED = "The payment page closed before the payment was made; nothing was charged."


def sign(payload: bytes, *, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value for `payload` (what the gateway sends)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    payload: bytes, header: str | None, *, secret: str, tolerance_s: int, now: float | None = None
) -> None:
    """BadSignature unless one v1 signature matches and the timestamp is within the tolerance."""
    parts = [item.partition("=") for item in (header or "").split(",")]
    timestamps = [value for key, _, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, _, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not signatures:
        raise BadSignature("The Stripe-Signature header is missing or malformed.")
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise BadSignature("The webhook's timestamp is outside the tolerance; it may be a replay.")
    expected = sign(payload, secret=secret, timestamp=timestamp).rpartition("v1=")[2]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise BadSignature("No signature of the webhook matches our secret.")


async def handle_event(*, session: AsyncSession, payload: bytes) -> str:
    """Applies a verified event once; returns what was done ("settled", "duplicate", "ignored")."""
    try:
        event = json.loads(payload)
        event_id, event_type, obj = event["id"], event["type"], event["data"]["object"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidInput("The webhook body is not a gateway event.") from error
    if await session.get(GatewayEvent, event_id) is not None:
        return "duplicate"
    try:  # a concurrent delivery of the same event waits here for the first, then finds it
        async with session.begin_nested():
            session.add(GatewayEvent(event_id=event_id, event_type=event_type, payload=event))
    except IntegrityError:
        return "duplicate"
    if event_type in INTENT_EVENTS:
        return await _intent_event(session, obj)
    if event_type in REFUND_EVENTS:
        return await _refund_event(session, obj)
    if event_type in CHECKOUT_EVENTS:
        return await _checkout_event(session, obj)
    return "ignored"


async def _intent_event(session: AsyncSession, obj: dict[str, Any]) -> str:
    intent = GatewayIntent(
        id=obj["id"],
        status=obj["status"],
        amount=obj["amount"],
        currency=str(obj["currency"]).upper(),
        client_secret=obj.get("client_secret"),
        metadata=obj.get("metadata") or {},
        failure=(obj.get("last_payment_error") or {}).get("message"),
    )
    # By our id in the metadata: the intent id may never have been recorded if we crashed after the call.
    payment_id = _uuid(intent.metadata.get("payment_id")) or await session.scalar(
        select(Payment.id).where(Payment.gateway_intent_id == intent.id)
    )
    if payment_id is None or await session.get(Payment, payment_id) is None:
        log.warning("webhook for unknown payment intent %s", intent.id)
        return "ignored"
    await apply_intent(session, None, payment_id, intent)
    return "settled"


async def _refund_event(session: AsyncSession, obj: dict[str, Any]) -> str:
    answer = GatewayRefund(
        id=obj["id"], status=obj["status"], amount=obj["amount"], failure=obj.get("failure_reason")
    )
    refund_id = _uuid((obj.get("metadata") or {}).get("refund_id")) or await session.scalar(
        select(Refund.id).where(Refund.gateway_refund_id == answer.id)
    )
    if refund_id is None or await session.get(Refund, refund_id) is None:
        log.warning("webhook for unknown refund %s", answer.id)
        return "ignored"
    await apply_refund(session, None, refund_id, answer)
    return "settled"


async def _checkout_event(session: AsyncSession, obj: dict[str, Any]) -> str:
    checkout = checkout_from_body(obj)
    payment_id = _uuid(checkout.metadata.get("payment_id")) or await session.scalar(
        select(Payment.id).where(Payment.gateway_checkout_id == checkout.id)
    )
    if payment_id is None or await session.get(Payment, payment_id) is None:
        log.warning("webhook for unknown checkout %s", checkout.id)
        return "ignored"
    if (intent := checkout.paid_intent()) is not None:
        # The same as its intent's own success event, whichever arrives first; the second changes nothing.
        await apply_intent(session, None, payment_id, intent)
        return "settled"
    if checkout.status == "expired":
        await fail(session, None, payment_id, CHECKOUT_EXPIRED)
        return "settled"
    return "ignored"


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
