"""Notification Bundles (R4B `subscription-notification`, a SubscriptionStatus first) and `$status`.

The same Bundle goes out over every channel: handshakes and heartbeats carry no events; an
`event-notification` carries each event's number, time and focus, and with `full-resource`
content the focus resources themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.db import utc_now


@dataclass(frozen=True, slots=True)
class EventItem:
    number: int
    occurred_at: datetime
    focus: str  # "Observation/<id>"
    resource: dict[str, Any] | None


def subscription_status(
    *,
    subscription_id: uuid.UUID,
    topic: str,
    status: str,
    kind: str,
    events_since_start: int,
    events: list[EventItem] = (),  # type: ignore[assignment]
    content: str = "id-only",
    error: str | None = None,
) -> dict[str, Any]:
    """An R4B SubscriptionStatus of one subscription."""
    resource: dict[str, Any] = {
        "resourceType": "SubscriptionStatus",
        "status": status,
        "type": kind,
        "eventsSinceSubscriptionStart": str(events_since_start),
        "subscription": {"reference": f"Subscription/{subscription_id}"},
        "topic": topic,
    }
    if events:
        resource["notificationEvent"] = [_event(item, content) for item in events]
    if error:
        resource["error"] = [{"text": error}]
    return resource


def _event(item: EventItem, content: str) -> dict[str, Any]:
    event: dict[str, Any] = {"eventNumber": str(item.number), "timestamp": item.occurred_at.isoformat()}
    if content != "empty":
        event["focus"] = {"reference": item.focus}
    return event


def notification_bundle(
    *,
    base_url: str,
    subscription_id: uuid.UUID,
    topic: str,
    status: str,
    kind: str,
    events_since_start: int,
    events: list[EventItem] = (),  # type: ignore[assignment]
    content: str = "id-only",
) -> dict[str, Any]:
    """The Bundle a subscriber receives (handshake, heartbeat, event-notification or query-event)."""
    status_resource = subscription_status(
        subscription_id=subscription_id,
        topic=topic,
        status=status,
        kind=kind,
        events_since_start=events_since_start,
        events=events,
        content=content,
    )
    entries: list[dict[str, Any]] = [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": status_resource}]
    if content == "full-resource":
        entries += [
            {"fullUrl": f"{base_url}/{item.focus}", "resource": item.resource}
            for item in events
            if item.resource is not None
        ]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "subscription-notification",
        "timestamp": utc_now().isoformat(),
        "entry": entries,
    }


def status_bundle(statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """`$status`: a searchset of SubscriptionStatus resources."""
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": len(statuses),
        "entry": [
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": status, "search": {"mode": "match"}}
            for status in statuses
        ],
    }
