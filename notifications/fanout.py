"""Fan-out: each waiting outbox event becomes notifications, in the transaction that claims it.

Claiming with `FOR UPDATE SKIP LOCKED` and marking the event dispatched in the same transaction
means every event is fanned out exactly once, however many workers run (SQLite: one writer).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import privacy
from core import audit, tracing
from core.outbox import EventType, OutboxEvent
from core.principal import SYSTEM
from notifications.account_mail import (
    ACCOUNT_EVENTS,
    account_context,
    account_recipient,
    is_account_event,
)
from notifications.context import EventContext, event_context, local_time
from notifications.models import Channel, DeliveryStatus, Notification, WebhookSubscription
from notifications.quiet_hours import release_time
from notifications.recipients import Recipient, recipients_for
from notifications.settings import NotificationSettings
from notifications.templates import render

# Quiet hours hold back what would wake someone; an escalated alarm is meant to, and an account
# email was asked for a moment ago.
QUIET_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})
UNQUIET_EVENTS = frozenset({EventType.ALARM_ESCALATED}) | ACCOUNT_EVENTS
# Events for other systems, dispatched by their own senders (PCD-04: `realtime.alarms.pcd04`).
SYSTEM_EVENTS = (EventType.ALARM_CHANGED.value,)
# Where a message's link leads, for staff and for patients, when not to their home page.
LINK_PATHS: dict[str, tuple[str, str]] = {
    EventType.MESSAGE_RECEIVED: ("/staff/messages/", "/portal/#messages"),
    EventType.DATA_REQUEST_ANSWERED: ("/admin/requests/", "/portal/#my-data"),
}


async def dispatch_events(
    *, session: AsyncSession, settings: NotificationSettings, now: datetime, limit: int = 100
) -> int:
    """Claims up to `limit` waiting events and queues their notifications; returns the events handled."""
    events = list(
        await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.event_type.not_in(SYSTEM_EVENTS))
            .order_by(OutboxEvent.occurred_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    subscriptions = list(await session.scalars(select(WebhookSubscription).where(WebhookSubscription.active)))
    tracer = tracing.tracer()
    for event in events:
        if tracer is not None and tracing.OUTBOX_KEY in event.payload:
            rows = await _traced_rows_of(tracer, session, event, subscriptions, settings=settings, now=now)
        else:
            rows = await _rows_of(session, event, subscriptions, settings=settings, now=now)
        session.add_all(rows)
        event.dispatched_at = now
        _audit(session, event, rows)
    await session.flush()
    return len(events)


async def _rows_of(
    session: AsyncSession,
    event: OutboxEvent,
    subscriptions: list[WebhookSubscription],
    *,
    settings: NotificationSettings,
    now: datetime,
) -> list[Notification]:
    if is_account_event(event.event_type):
        # Not about anyone's care, and may carry a link: for its address only, never for systems.
        recipient = account_recipient(event.payload, settings)
        context = account_context(event, settings)
        return _personal(event, recipient, context, settings=settings, now=now) if recipient else []
    context = await event_context(session, event_type=event.event_type, payload=event.payload)
    rows: list[Notification] = []
    for recipient in await recipients_for(
        session, event_type=event.event_type, payload=event.payload, settings=settings
    ):
        rows += _personal(event, recipient, context, settings=settings, now=now)
    patient_id = event.payload.get("patient_id")
    # A restricted record (an erasure the law did not allow) is told to no outside system.
    if patient_id and await privacy.is_restricted(session, patient_id=uuid.UUID(patient_id)):
        return rows
    rows += [
        _webhook(event, subscription, now=now)
        for subscription in subscriptions
        if not subscription.event_types or event.event_type in subscription.event_types
    ]
    return rows


async def _traced_rows_of(
    tracer: Tracer,
    session: AsyncSession,
    event: OutboxEvent,
    subscriptions: list[WebhookSubscription],
    *,
    settings: NotificationSettings,
    now: datetime,
) -> list[Notification]:
    """`_rows_of` inside a `notifications.fan_out` span, the child of the event's `outbox.record`.

    The event then carries the fan-out's `traceparent` instead, so that each delivery of it
    (`notifications.worker`) is that span's child.
    """
    parent = tracing.remote_parent(event.payload[tracing.OUTBOX_KEY]) or tracing.ROOT
    span = tracer.start_span(
        "notifications.fan_out",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={"ownat.event.type": event.event_type, "ownat.event.id": str(event.id)},
    )
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    try:
        rows = await _rows_of(session, event, subscriptions, settings=settings, now=now)
        span.set_attribute("ownat.deliveries", len(rows))
        if span.is_recording():
            traceparent = tracing.traceparent_of(span.get_span_context())
            event.payload = {**event.payload, tracing.OUTBOX_KEY: traceparent}
        return rows
    finally:
        otel_context.detach(token)
        span.end()


def _audit(session: AsyncSession, event: OutboxEvent, rows: list[Notification]) -> None:
    # Telling people and systems about a patient's care is a use of their data: it goes on the record.
    patient_id = event.payload.get("patient_id")
    audit.record(
        session,
        actor=SYSTEM,
        action="notify",
        resource_type="outbox_event",
        resource_id=event.id,
        patient_id=uuid.UUID(patient_id) if patient_id else None,
        detail={
            "event_type": event.event_type,
            "deliveries": sorted(f"{row.channel.value}:{row.user_id or row.subscription_id}" for row in rows),
        },
    )


def _personal(
    event: OutboxEvent,
    recipient: Recipient,
    context: EventContext,
    *,
    settings: NotificationSettings,
    now: datetime,
) -> list[Notification]:
    staff_path, patient_path = LINK_PATHS.get(event.event_type, ("/staff/", "/portal/"))
    path = staff_path if recipient.is_staff else patient_path
    # The context may bring its own link (an account email's).
    values = {"link": settings.public_url.rstrip("/") + path, **context.values}
    if context.at is not None:
        values["when"] = local_time(context.at, recipient.zone)
    message = render(event.event_type, recipient.language, values, staff=recipient.is_staff)
    rows = []
    for channel in sorted(recipient.channels):
        due = now
        if channel in QUIET_CHANNELS and event.event_type not in UNQUIET_EVENTS:
            due = release_time(now, start=recipient.quiet_start, end=recipient.quiet_end, zone=recipient.zone)
        address = {Channel.EMAIL: recipient.email, Channel.SMS: recipient.phone}.get(channel)
        rows.append(
            Notification(
                id=uuid.uuid4(),
                event_id=event.id,
                event_type=event.event_type,
                channel=channel,
                user_id=recipient.user_id,
                address=address,
                language=message.language,
                title=message.title,
                body=message.body,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=due,
                # The inbox orders by when it happened, not by when a worker got to it.
                created_at=event.occurred_at,
            )
        )
    return rows


def _webhook(event: OutboxEvent, subscription: WebhookSubscription, *, now: datetime) -> Notification:
    # The body is fixed now, so every retry sends (and signs) the same bytes.
    envelope = {
        "id": str(event.id),
        "type": event.event_type,
        "occurred_at": event.occurred_at.isoformat(),
        # Our trace context is ours: a receiver gets it as the delivery's `traceparent` header.
        "data": {key: value for key, value in event.payload.items() if key != tracing.OUTBOX_KEY},
    }
    return Notification(
        id=uuid.uuid4(),
        event_id=event.id,
        event_type=event.event_type,
        channel=Channel.WEBHOOK,
        subscription_id=subscription.id,
        address=subscription.url,
        language="en",
        title=event.event_type,
        body=json.dumps(envelope, separators=(",", ":"), sort_keys=True),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=event.occurred_at,
    )
