"""Recording topic events for the subscriptions they match: numbered, once each, queued for rest-hooks.

Each subscription's row is locked while its events are numbered, so two api instances that saw the
same reading record it once (the second finds its key) and numbers have no gaps. The caller owns
the transaction and, once it commits, publishes the returned Bundles to websockets.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utc_now
from core.principal import Principal, Role
from realtime.subscriptions.bundles import EventItem, notification_bundle
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
    """The principal a subscription reads with: its creator's, as at creation."""
    return Principal(user_id=row.owner_user_id, role=Role(row.owner_role), patient_id=row.owner_patient_id)


def matches(row: FhirSubscription, event: TopicEvent) -> bool:
    """The event is of the subscription's topic, passes its filter, and its owner may read it."""
    if row.topic != event.topic.url:
        return False
    if row.patient_id is not None and row.patient_id != event.patient_id:
        return False
    if row.ward_id is not None and row.ward_id != event.ward_id:
        return False
    return owner_of(row).may_access_patient(event.patient_id)


async def record_for(
    session: AsyncSession, subscription_id: uuid.UUID, events: list[TopicEvent]
) -> dict[str, Any] | None:
    """Records the events not yet recorded for the subscription; the notification Bundle, or None."""
    row = await session.scalar(
        select(FhirSubscription).where(FhirSubscription.id == subscription_id).with_for_update()
    )
    if row is None or row.status not in LIVE_STATUSES or not events:
        return None
    if row.end_at is not None and row.end_at <= utc_now():
        row.status = "off"
        return None
    keys = [event.key for event in events]
    seen = set(
        await session.scalars(
            select(FhirSubscriptionEvent.event_key).where(
                FhirSubscriptionEvent.subscription_id == row.id, FhirSubscriptionEvent.event_key.in_(keys)
            )
        )
    )
    fresh = list({event.key: event for event in events if event.key not in seen}.values())
    if not fresh:
        return None
    first = row.events_since_start + 1
    items = [
        EventItem(
            first + index,
            event.occurred_at,
            event.focus,
            event.resource if row.content == "full-resource" else None,
        )
        for index, event in enumerate(fresh)
    ]
    await session.execute(
        insert(FhirSubscriptionEvent),
        [
            {
                "subscription_id": row.id,
                "event_key": event.key,
                "number": item.number,
                "occurred_at": event.occurred_at,
                "focus": event.focus,
                # Kept for full-resource subscriptions only: `$events` serves what was stored.
                "resource": event.resource if row.content == "full-resource" else None,
            }
            for event, item in zip(fresh, items, strict=True)
        ],
    )
    row.events_since_start += len(fresh)
    row.last_sent_at = utc_now()
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
