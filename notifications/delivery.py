"""Delivery: claim due notifications, send each through its channel's breaker, record the outcome.

A claim is a short transaction (`FOR UPDATE SKIP LOCKED`) that marks rows `sending` with a lease;
the sending happens outside any transaction, so a slow provider holds no database lock. The worker
renews the leases of what it is still sending (`renew_leases`), so a slow receiver is never sent
to by a second worker, and records each outcome as soon as its send ends. A worker that dies
mid-send leaves its leases to run out, and another worker sends again what it had not recorded:
at least once on the wire, and only the sends in flight at the moment of death are repeated. Every
attempt of a delivery carries the same id (the webhook's `X-Ownat-Delivery`), so for a receiver
that drops an id it has seen, delivery is exactly once.

A claim is named by the row's `attempts`, which each claim increments: a worker whose lease ran
out finds a different value and neither renews nor records what is no longer its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.circuit_breaker import CircuitOpen
from core.outbox import OutboxEvent
from core.tracing import OUTBOX_KEY
from notifications.account_mail import LINK_EVENTS, LINK_REMOVED
from notifications.models import Channel, DeliveryStatus, Notification, WebhookSubscription
from notifications.settings import NotificationSettings

ERROR_MAX_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a sender needs of one claimed notification, detached from the session."""

    id: uuid.UUID
    channel: Channel
    event_type: str
    user_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    address: str | None
    title: str
    body: str
    created_at: datetime
    attempts: int
    secret: str | None = None
    # The `traceparent` of its event's fan-out, looked up only while tracing is on.
    trace: str | None = None


async def claim_due(
    *, session: AsyncSession, now: datetime, lease_s: float, limit: int = 50, traced: bool = False
) -> list[Claimed]:
    """Marks up to `limit` due notifications (or ones whose worker's lease ran out) as sending.

    `traced`: tracing is on, so each claim carries its event's trace context (one more query).
    """
    rows = list(
        await session.scalars(
            select(Notification)
            .where(
                or_(
                    and_(Notification.status == DeliveryStatus.PENDING, Notification.next_attempt_at <= now),
                    and_(Notification.status == DeliveryStatus.SENDING, Notification.lease_until < now),
                )
            )
            .order_by(Notification.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    subscription_ids = {row.subscription_id for row in rows if row.subscription_id}
    secrets: dict[uuid.UUID, str] = {}
    if subscription_ids:
        found = await session.execute(
            select(WebhookSubscription.id, WebhookSubscription.secret).where(
                WebhookSubscription.id.in_(subscription_ids)
            )
        )
        secrets = {subscription_id: secret for subscription_id, secret in found}
    traces = await _event_traces(session, {row.event_id for row in rows}) if traced and rows else {}
    for row in rows:
        row.status = DeliveryStatus.SENDING
        row.lease_until = now + timedelta(seconds=lease_s)
        row.attempts += 1
    await session.flush()
    return [
        Claimed(
            id=row.id,
            channel=row.channel,
            event_type=row.event_type,
            user_id=row.user_id,
            subscription_id=row.subscription_id,
            address=row.address,
            title=row.title,
            body=row.body,
            created_at=row.created_at,
            attempts=row.attempts,
            secret=secrets.get(row.subscription_id) if row.subscription_id else None,
            trace=traces.get(row.event_id),
        )
        for row in rows
    ]


async def _event_traces(session: AsyncSession, event_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    found = await session.execute(
        select(OutboxEvent.id, OutboxEvent.payload).where(OutboxEvent.id.in_(event_ids))
    )
    return {event_id: payload[OUTBOX_KEY] for event_id, payload in found if OUTBOX_KEY in (payload or {})}


async def renew_leases(
    *, session: AsyncSession, claimed: list[Claimed], now: datetime, lease_s: float
) -> int:
    """Extends the leases of deliveries still being sent under these claims; returns how many were."""
    if not claimed:
        return 0
    result = await session.execute(
        update(Notification)
        .where(
            Notification.status == DeliveryStatus.SENDING,
            tuple_(Notification.id, Notification.attempts).in_([(c.id, c.attempts) for c in claimed]),
        )
        .values(lease_until=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_delay_s(attempts: int, settings: NotificationSettings) -> float:
    """Exponential backoff: base, 2 x base, 4 x base, ... capped."""
    return float(min(settings.notify_retry_base_s * 2 ** (attempts - 1), settings.notify_retry_max_s))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]


async def record_outcome(
    *,
    session: AsyncSession,
    claimed: Claimed,
    error: BaseException | None,
    now: datetime,
    settings: NotificationSettings,
) -> DeliveryStatus | None:
    """Sent, retried later, or dead; ignored if the lease was lost and another worker owns the row."""
    row = await session.get(Notification, claimed.id, with_for_update=True)
    if row is None or row.status is not DeliveryStatus.SENDING or row.attempts != claimed.attempts:
        return None
    row.lease_until = None
    if error is None:
        row.status, row.sent_at, row.last_error = DeliveryStatus.SENT, now, None
        # A sent link is the recipient's alone; the development mailbox shows what it "sent".
        if row.event_type in LINK_EVENTS and not settings.dev_mailbox:
            row.body = LINK_REMOVED
    elif isinstance(error, CircuitOpen):
        # The provider was not even tried: this does not use up one of the attempts.
        row.attempts -= 1
        row.status, row.last_error = DeliveryStatus.PENDING, _describe(error)
        row.next_attempt_at = now + timedelta(seconds=max(error.retry_in_s, 1.0))
    elif row.attempts >= settings.notify_max_attempts:
        row.status, row.last_error = DeliveryStatus.DEAD, _describe(error)
    else:
        row.status, row.last_error = DeliveryStatus.PENDING, _describe(error)
        row.next_attempt_at = now + timedelta(seconds=retry_delay_s(row.attempts, settings))
    await session.flush()
    return row.status
