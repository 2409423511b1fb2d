"""The rest-hook channel: signed POSTs of notification Bundles, retried with backoff, by `ownat worker`.

Deliveries are rows written with the events (`record`), so a notification exists if and only if its
events committed, and the worker claims them as the notifications outbox does (`FOR UPDATE SKIP
LOCKED`, a lease, at least once on the wire). Each POST is signed like the platform's webhooks
(`core.webhook_signing`): `X-Ownat-Signature: sha256=<hex>` of
"{X-Ownat-Timestamp}.{body}" with the subscription's secret, and `X-Ownat-Delivery` stays the same
across retries. A delivered handshake makes a `requested` subscription `active`; a delivery that
runs out of attempts puts the subscription in `error` (it recovers at the next success).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.sessions import transaction
from core.settings import Settings
from core.webhook_signing import signature
from core.webhook_targets import TargetRefused, pinned_target
from realtime.subscriptions.endpoints import EndpointRefused, check_form
from realtime.subscriptions.models import FhirHookDelivery, FhirSubscription
from realtime.subscriptions.record import queue_delivery
from realtime.subscriptions.service import heartbeat_bundle

LEASE_S = 60.0
TIMEOUT_S = 10.0
MAX_RETRY_DELAY_S = 300.0
ERROR_MAX_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class ClaimedHook:
    id: uuid.UUID
    subscription_id: uuid.UUID
    kind: str
    body: str
    attempts: int
    endpoint: str
    secret: str
    headers: list[str]


async def claim_due(*, session: AsyncSession, now: datetime, limit: int = 50) -> list[ClaimedHook]:
    """Marks up to `limit` due deliveries (or ones whose worker's lease ran out) as sending."""
    rows = list(
        await session.execute(
            select(FhirHookDelivery, FhirSubscription)
            .join(FhirSubscription, FhirSubscription.id == FhirHookDelivery.subscription_id)
            .where(
                or_(
                    and_(FhirHookDelivery.status == "pending", FhirHookDelivery.next_attempt_at <= now),
                    and_(FhirHookDelivery.status == "sending", FhirHookDelivery.lease_until < now),
                ),
                FhirSubscription.status.in_(("active", "requested", "error")),
                # Nothing before the handshake: a requested subscription's events wait for it.
                or_(FhirSubscription.status != "requested", FhirHookDelivery.kind == "handshake"),
            )
            .order_by(FhirHookDelivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=FhirHookDelivery)
        )
    )
    claimed = []
    for delivery, subscription in rows:
        delivery.status, delivery.lease_until = "sending", now + timedelta(seconds=LEASE_S)
        delivery.attempts += 1
        claimed.append(
            ClaimedHook(
                id=delivery.id,
                subscription_id=subscription.id,
                kind=delivery.kind,
                body=delivery.body,
                attempts=delivery.attempts,
                endpoint=subscription.endpoint or "",
                secret=subscription.secret,
                headers=list(subscription.headers or []),
            )
        )
    await session.flush()
    return claimed


async def post_hook(
    client: httpx.AsyncClient, item: ClaimedHook, *, allow_private: bool, now: datetime
) -> None:
    """POSTs one signed notification; raises on a refused endpoint, a network error or a non-2xx answer."""
    url, pinned_headers, extensions = await _connection_target(item.endpoint, allow_private=allow_private)
    payload = item.body.encode()
    timestamp = int(now.timestamp())
    headers = {}
    for line in item.headers:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    headers.update(
        {
            "Content-Type": "application/fhir+json",
            "X-Ownat-Event": f"fhir.subscription.{item.kind}",
            "X-Ownat-Delivery": str(item.id),
            "X-Ownat-Timestamp": str(timestamp),
            "X-Ownat-Signature": signature(item.secret, timestamp, payload),
            **pinned_headers,
        }
    )
    response = await client.post(url, content=payload, headers=headers, extensions=extensions)
    if not response.is_success:
        raise RuntimeError(f"the endpoint answered {response.status_code}")


async def _connection_target(
    endpoint: str, *, allow_private: bool
) -> tuple[str, dict[str, str], dict[str, str] | None]:
    """Where to connect: the endpoint judged and pinned to its judged address by the webhooks' guard
    (one guard for every POST the server makes on a client's behalf), unless private targets are
    allowed (the demo, the tests)."""
    check_form(endpoint, allow_private=allow_private)
    if allow_private:
        return endpoint, {}, None
    try:
        target = await pinned_target(endpoint, frozenset())
    except TargetRefused as refused:
        raise EndpointRefused(str(refused)) from None
    return target.url, {"Host": target.host_header}, target.extensions


def retry_delay_s(attempts: int, settings: Settings) -> float:
    """Exponential backoff: base, 2 x base, 4 x base, ..., at most five minutes."""
    return min(settings.fhir_hook_retry_base_s * 2 ** (attempts - 1), MAX_RETRY_DELAY_S)


async def record_outcome(
    *,
    session: AsyncSession,
    item: ClaimedHook,
    error: BaseException | None,
    now: datetime,
    settings: Settings,
) -> str | None:
    """sent, pending (to retry) or dead; None when the lease was lost to another worker."""
    row = await session.get(FhirHookDelivery, item.id, with_for_update=True)
    if row is None or row.status != "sending" or row.attempts != item.attempts:
        return None
    subscription = await session.get(FhirSubscription, item.subscription_id)
    row.lease_until = None
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, None
        if subscription is not None and subscription.status in ("requested", "error"):
            subscription.status, subscription.error = "active", None
    else:
        row.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
        if row.attempts >= settings.fhir_hook_max_attempts:
            row.status = "dead"
            if subscription is not None:
                subscription.status = "error"
                subscription.error = f"A {row.kind} could not be delivered: {row.last_error}"[
                    :ERROR_MAX_LENGTH
                ]
        else:
            row.status = "pending"
            row.next_attempt_at = now + timedelta(seconds=retry_delay_s(row.attempts, settings))
    await session.flush()
    return row.status


async def deliver_due(
    *, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, settings: Settings
) -> dict[str, int]:
    """Claims one batch, sends it concurrently, records every outcome; returns counts by outcome."""
    async with transaction(sessions) as session:
        claimed = await claim_due(session=session, now=utc_now())
    if not claimed:
        return {}

    async def send(item: ClaimedHook) -> BaseException | None:
        try:
            await post_hook(client, item, allow_private=settings.fhir_hooks_allow_private, now=utc_now())
        except (httpx.HTTPError, EndpointRefused, RuntimeError, OSError) as error:
            return error
        return None

    errors = await asyncio.gather(*(send(item) for item in claimed))
    outcomes: dict[str, int] = {}
    async with transaction(sessions) as session:
        for item, error in zip(claimed, errors, strict=True):
            status = await record_outcome(
                session=session, item=item, error=error, now=utc_now(), settings=settings
            )
            key = status or "lost-lease"
            outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


async def queue_heartbeats(*, session: AsyncSession, now: datetime) -> int:
    """Queues a heartbeat for each active rest-hook whose heartbeat period passed without a notification."""
    rows = list(
        await session.scalars(
            select(FhirSubscription).where(
                FhirSubscription.channel_type == "rest-hook",
                FhirSubscription.status == "active",
                FhirSubscription.heartbeat_period_s.is_not(None),
            )
        )
    )
    queued = 0
    for row in rows:
        last = row.last_sent_at or row.created_at
        if row.heartbeat_period_s and last + timedelta(seconds=row.heartbeat_period_s) <= now:
            queue_delivery(session, row, "heartbeat", heartbeat_bundle(row))
            row.last_sent_at = now
            queued += 1
    await session.flush()
    return queued
