"""Subscription keys, and which keys a bus channel feeds."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from realtime.hub.messages import Scope

# One pattern per kind of channel a process always receives. A patient's readings are subscribed
# one channel at a time while watched (`realtime.hub.hub`): every reading is on its patient's channel,
# and decoding them all in every api instance would be most of its work.
# What the hub reads from the bus, in two lanes of their own (two Redis connections): a ward's
# readings arrive many times a second, and an alarm read behind them on one connection would wait
# for every frame queued ahead of it.
# NEWS2 scores travel with the readings: on a busy ward they change many times a minute, and an
# alarm must not wait behind them either.
READING_PATTERNS = ["vitals.ward.*", "news2.ward.*", "news2.patient.*"]
EVENT_PATTERNS = ["alarms.ward.*", "alarms.patient.*", "notifications.user.*"]


class SubscriptionKey(NamedTuple):
    scope: Scope
    id: uuid.UUID

    def label(self) -> dict[str, str]:
        """The key as it appears in server messages."""
        return {"scope": self.scope, "id": str(self.id)}


def keys_for_channel(channel: str) -> list[SubscriptionKey]:
    """The subscription keys a bus channel feeds; empty for channels the hub does not serve."""
    parts = channel.split(".")
    if len(parts) != 3:
        return []
    family, kind, raw_id = parts
    try:
        target = uuid.UUID(raw_id)
    except ValueError:
        return []
    if kind == "ward" and family in {"vitals", "alarms", "news2"}:
        return [SubscriptionKey("ward", target)]
    if kind == "patient" and family in {"vitals", "news2"}:
        return [SubscriptionKey("patient", target)]
    if kind == "patient" and family == "alarms":
        # A patient's alarms reach both their patient view and the dedicated alarm feed.
        return [SubscriptionKey("patient", target), SubscriptionKey("alarms", target)]
    if kind == "user" and family == "notifications":
        return [SubscriptionKey("notifications", target)]
    return []


def event_type_of(channel: str) -> str | None:
    """Alarms, NEWS2 scores and notifications are forwarded message by message, as this type;
    vitals (None) are coalesced."""
    family = channel.split(".", 1)[0]
    return {"alarms": "alarm", "news2": "news2", "notifications": "notification"}.get(family)
