"""Recording topic events for the subscriptions they match: numbered, once each, queued for rest-hooks.

Each subscription's row is locked while its events are numbered, so two api instances that saw the
same reading record it once (the second finds its key) and numbers have no gaps. The caller owns
the transaction and, once it commits, publishes the returned Bundles to websockets.

A subscription a SMART app created reads with the app's grant as well as its owner's role: an event
reaches it only if the grant's scopes may read the topic's focus, for that patient (`grants`). The
grant is checked again as events are recorded (in the statement that locks the row), so a revoked,
suspended, lapsed or narrowed grant turns the subscription off before anything more is recorded.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utc_now
from core.principal import Principal, Role, SmartGrant
from realtime.subscriptions.bundles import EventItem, notification_bundle
from realtime.subscriptions.grants import AUTHORITY_ENDED, confinement, may_read_focus, still_authorised
from realtime.subscriptions.models import FhirHookDelivery, FhirSubscription, FhirSubscriptionEvent
from realtime.subscriptions.topics import Topic

LIVE_STATUSES = ("active", "requested")


@dataclass(frozen=True, slots=True)
class TopicEvent:
    """Something that happened, about one patient, as one topic sees it."""

    topic: Topic
    key: str  # what makes it the same event when seen twice
    occurred_at: datetime
    focus: str  # "Observation/<id>"
    patient_id: uuid.UUID
    ward_id: uuid.UUID | None = None
    resource: dict[str, Any] | None = None


def owner_of(row: FhirSubscription) -> Principal:
    """The principal a subscription reads with: its creator's, as at creation, with its app's grant."""
    client_id = row.grant_client_id
    if client_id is None:
        return Principal(
            user_id=row.owner_user_id, role=Role(row.owner_role), patient_id=row.owner_patient_id
        )
    return Principal(
        user_id=row.owner_user_id,
        role=Role(row.owner_role),
        patient_id=row.owner_patient_id,
        grant=_grant(client_id, row.grant_scope or "", row.grant_patient_id),
        family_id=row.grant_id,
    )


@functools.lru_cache(maxsize=4096)
def _grant(client_id: str, scope: str, patient_id: uuid.UUID | None) -> SmartGrant:
    # Parsed once per grant, not per event: `matches` runs on the dispatcher's path for every reading.
    return SmartGrant.of(client_id=client_id, scope=scope, patient_id=patient_id)


def matches(row: FhirSubscription, event: TopicEvent) -> bool:
    """The event is of the subscription's topic, passes its filter, and its owner (narrowed by its
    app's scopes: a patient/ scope keeps it to the launch patient, ward or not) may read it."""
    if row.topic != event.topic.url:
        return False
    if row.patient_id is not None and row.patient_id != event.patient_id:
        return False
    if row.ward_id is not None and row.ward_id != event.ward_id:
        return False
    owner = owner_of(row)
    if owner.grant is None:
        return owner.may_access_patient(event.patient_id)
    focus = event.topic.resource_type
    confined = confinement(owner, focus)
    if not may_read_focus(owner, focus) or (confined is not None and confined != event.patient_id):
        return False
    return owner.may_access_patient(event.patient_id, resource_type=focus)


async def record_for(
    session: AsyncSession, subscription_id: uuid.UUID, events: list[TopicEvent]
) -> dict[str, Any] | None:
    """Records the events not yet recorded for the subscription; the notification Bundle, or None."""
    return (await record_many(session, {subscription_id: events})).get(subscription_id)


async def record_many(
    session: AsyncSession, pending: Mapping[uuid.UUID, Sequence[TopicEvent]]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Records each subscription's events not yet recorded; the notification Bundles, by subscription.

    A round costs three statements (lock, keys already seen, insert) and the rows' updates, however
    many subscriptions it holds: under load the dispatcher's rounds carry dozens, and a few
    statements each had made a round's database time grow with them. Rows are locked in id order,
    so two instances recording overlapping rounds wait for each other instead of deadlocking.
    """
    wanted = sorted(subscription_id for subscription_id, events in pending.items() if events)
    if not wanted:
        return {}
    now = utc_now()
    found = await session.execute(
        select(FhirSubscription, still_authorised(now))
        .where(FhirSubscription.id.in_(wanted))
        .order_by(FhirSubscription.id)
        .with_for_update(of=FhirSubscription)
    )
    live: list[FhirSubscription] = []
    for row, authorised in found:
        if row.status not in LIVE_STATUSES:
            continue
        if not authorised:
            row.status, row.error = "off", AUTHORITY_ENDED
        elif row.end_at is not None and row.end_at <= now:
            row.status = "off"
        else:
            live.append(row)
    if not live:
        return {}
    keys = list({event.key for row in live for event in pending[row.id]})
    already = await session.execute(
        select(FhirSubscriptionEvent.subscription_id, FhirSubscriptionEvent.event_key).where(
            FhirSubscriptionEvent.subscription_id.in_([row.id for row in live]),
            FhirSubscriptionEvent.event_key.in_(keys),
        )
    )
    seen = {(subscription_id, key) for subscription_id, key in already}
    inserted: list[dict[str, Any]] = []
    bundles: dict[uuid.UUID, dict[str, Any]] = {}
    for row in live:
        fresh = list({e.key: e for e in pending[row.id] if (row.id, e.key) not in seen}.values())
        if fresh:
            bundles[row.id] = _numbered(session, row, fresh, inserted, now=now)
    if inserted:
        await session.execute(insert(FhirSubscriptionEvent), inserted)
    return bundles


def _numbered(
    session: AsyncSession,
    row: FhirSubscription,
    fresh: list[TopicEvent],
    inserted: list[dict[str, Any]],
    *,
    now: datetime,
) -> dict[str, Any]:
    """Numbers the subscription's fresh events (adding their rows to `inserted`); its notification Bundle."""
    # Kept for full-resource subscriptions only: `$events` serves what was stored.
    full = row.content == "full-resource"
    first = row.events_since_start + 1
    items = [
        EventItem(first + index, event.occurred_at, event.focus, event.resource if full else None)
        for index, event in enumerate(fresh)
    ]
    inserted.extend(
        {
            "subscription_id": row.id,
            "event_key": event.key,
            "number": item.number,
            "occurred_at": event.occurred_at,
            "focus": event.focus,
            "resource": item.resource,
        }
        for event, item in zip(fresh, items, strict=True)
    )
    row.events_since_start += len(fresh)
    row.last_sent_at = now
    bundle = notification_bundle(
        base_url=row.base_url,
        subscription_id=row.id,
        topic=row.topic,
        status=row.status,
        kind="event-notification",
        events_since_start=row.events_since_start,
        events=items,
        content=row.content,
    )
    if row.channel_type == "rest-hook":
        queue_delivery(session, row, "event-notification", bundle)
    return bundle


def queue_delivery(session: AsyncSession, row: FhirSubscription, kind: str, bundle: dict[str, Any]) -> None:
    """Adds a Bundle to POST to the subscription's rest-hook; the worker sends it (`hooks`)."""
    session.add(
        FhirHookDelivery(
            id=uuid.uuid4(),
            subscription_id=row.id,
            kind=kind,
            body=json.dumps(bundle, separators=(",", ":")),
            status="pending",
            attempts=0,
            next_attempt_at=utc_now(),
            created_at=utc_now(),
        )
    )
