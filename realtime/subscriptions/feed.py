"""Appointments and lab results reach subscriptions from the outbox, read by `ownat worker`.

The feed keeps its own cursor (the notifications fan-out marks events dispatched for itself) and
re-reads a short window behind it each pass, because a transaction that began earlier can commit
later; an event seen twice is recorded once (its key is the outbox event's id). With
`full-resource` content the focus is rendered as its subscriber may read it (narrowed by its app's
scopes, if an app subscribed), so an unreleased lab result never reaches a patient; the notification
of each event is audited. Each pass first turns off the subscriptions whose app's authorisation
ended, before `ownat worker` claims the rest-hook deliveries of the pass.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir import FhirContext, provider_for
from core import audit
from core.errors import DomainError
from core.outbox import EventType, OutboxEvent
from realtime.subscriptions.grants import end_unauthorised
from realtime.subscriptions.models import FhirSubscription, FhirSubscriptionCursor
from realtime.subscriptions.record import LIVE_STATUSES, TopicEvent, matches, owner_of, record_for
from realtime.subscriptions.topics import APPOINTMENTS, LAB_RESULTS, Topic

CURSOR = "outbox"
OVERLAP = timedelta(seconds=30)
TOPIC_OF: dict[str, tuple[Topic, str, str]] = {
    EventType.APPOINTMENT_BOOKED.value: (APPOINTMENTS, "Appointment", "appointment_id"),
    EventType.APPOINTMENT_RESCHEDULED.value: (APPOINTMENTS, "Appointment", "appointment_id"),
    EventType.APPOINTMENT_CANCELLED.value: (APPOINTMENTS, "Appointment", "appointment_id"),
    EventType.LAB_RESULT_READY.value: (LAB_RESULTS, "DiagnosticReport", "order_id"),
}


def topic_event(event: OutboxEvent) -> TopicEvent | None:
    """The topic event of an outbox event, or None for the event types no topic follows."""
    known = TOPIC_OF.get(event.event_type)
    payload = event.payload or {}
    if known is None or not payload.get("patient_id") or not payload.get(known[2]):
        return None
    topic, resource_type, id_field = known
    return TopicEvent(
        topic=topic,
        key=f"outbox:{event.id}",
        occurred_at=event.occurred_at,
        focus=f"{resource_type}/{payload[id_field]}",
        patient_id=uuid.UUID(str(payload["patient_id"])),
    )


async def feed_outbox(*, session: AsyncSession, now: datetime) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """Records the outbox's new events for their subscriptions; the (subscription, Bundle) pairs to publish."""
    await end_unauthorised(session, now=now)
    cursor = await session.get(FhirSubscriptionCursor, CURSOR, with_for_update=True)
    if cursor is None:
        # A first start does not replay the outbox's history to subscribers.
        session.add(FhirSubscriptionCursor(name=CURSOR, occurred_at=now, event_id=uuid.UUID(int=0)))
        await session.flush()
        return []
    outbox = list(
        await session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.occurred_at > cursor.occurred_at - OVERLAP, OutboxEvent.event_type.in_(TOPIC_OF)
            )
            .order_by(OutboxEvent.occurred_at)
            .limit(1000)
        )
    )
    if outbox:
        cursor.occurred_at = max(cursor.occurred_at, outbox[-1].occurred_at)
    events = [event for event in map(topic_event, outbox) if event is not None]
    if not events:
        return []
    rows = list(
        await session.scalars(
            select(FhirSubscription).where(
                FhirSubscription.status.in_(LIVE_STATUSES),
                FhirSubscription.topic.in_([APPOINTMENTS.url, LAB_RESULTS.url]),
            )
        )
    )
    published = []
    for row in rows:
        chosen = [await _rendered(session, row, event) for event in events if matches(row, event)]
        readable = [event for event in chosen if event is not None]
        bundle = await record_for(session, row.id, readable) if readable else None
        if bundle is not None:
            for event in readable:
                audit.record(
                    session,
                    actor=owner_of(row),
                    action="fhir.subscription.notify",
                    resource_type="fhir.Subscription",
                    resource_id=row.id,
                    patient_id=event.patient_id,
                    detail={"focus": event.focus},
                )
            if row.channel_type == "websocket":
                published.append((row.id, bundle))
    return published


async def _rendered(session: AsyncSession, row: FhirSubscription, event: TopicEvent) -> TopicEvent | None:
    """The event with its focus as the subscriber may read it; None when they may not read it."""
    resource_type, _, resource_id = event.focus.partition("/")
    provider = provider_for(resource_type)
    if provider is None:
        return None
    ctx = FhirContext(session=session, principal=owner_of(row), base_url=row.base_url)
    try:
        rendered = await provider.read(ctx, resource_id)
    except DomainError:
        return None  # gone, or not (yet) the subscriber's to read (an unreleased result)
    resource = rendered.resource if row.content == "full-resource" else None
    return TopicEvent(
        topic=event.topic,
        key=event.key,
        occurred_at=event.occurred_at,
        focus=event.focus,
        patient_id=event.patient_id,
        resource=resource,
    )
