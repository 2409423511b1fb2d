"""Subscription keys, and which keys a bus channel feeds."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from core.bus import (
    ALARMS_PATIENT_ANY,
    ALARMS_WARD_ANY,
    NEWS2_PATIENT_ANY,
    NEWS2_WARD_ANY,
    NOTIFICATIONS_USER_ANY,
    VITALS_WARD_ANY,
    parse_channel,
)
from realtime.hub.messages import Scope

# One pattern per kind of channel a process always receives. A patient's readings are subscribed
# one channel at a time while watched (`realtime.hub.hub`): every reading is on its patient's channel,
# and decoding them all in every api instance would be most of its work.
# What the hub reads from the bus, in two lanes of their own (two Redis connections): a ward's
# readings arrive many times a second, and an alarm read behind them on one connection would wait
# for every frame queued ahead of it.
# NEWS2 scores travel with the readings: on a busy ward they change many times a minute, and an
# alarm must not wait behind them either.
READING_PATTERNS = [VITALS_WARD_ANY, NEWS2_WARD_ANY, NEWS2_PATIENT_ANY]
EVENT_PATTERNS = [ALARMS_WARD_ANY, ALARMS_PATIENT_ANY, NOTIFICATIONS_USER_ANY]


class SubscriptionKey(NamedTuple):
    scope: Scope
    id: uuid.UUID

    def label(self) -> dict[str, str]:
        """The key as it appears in server messages."""
        return {"scope": self.scope, "id": str(self.id)}


def keys_for_channel(channel: str) -> list[SubscriptionKey]:
    """The subscription keys a bus channel feeds; empty for channels the hub does not serve."""
    name = parse_channel(channel)
    if name is None:
        return []
    family, kind, raw_id = name
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
