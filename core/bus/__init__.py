"""The publish/subscribe bus: Redis pub/sub across processes, or in-process in the embedded mode.

Messages are JSON objects delivered at most once, in publish order per channel, to whoever is
subscribed at that moment; nothing is stored. A subscription that may have missed messages says so
with a `resync` marker, after which the consumer reloads its state from the database.

Beside the buses: `encode_message`/`encode_each` (the JSON every message travels as) and
`reconnect_delay_s`, the backoff every long-lived connection (Redis, MQTT, sockets) reconnects with.
"""

from __future__ import annotations

from core.bus.backoff import reconnect_delay_s
from core.bus.inprocess import InProcessBus, InProcessSubscription
from core.bus.interface import Bus, BusClosedError, BusMessage, Subscription, encode_each, encode_message
from core.bus.redis_bus import RedisBus
from core.bus.redis_subscription import RedisSubscription, SubscriptionTuning

__all__ = [
    "Bus",
    "BusClosedError",
    "BusMessage",
    "InProcessBus",
    "InProcessSubscription",
    "RedisBus",
    "RedisSubscription",
    "Subscription",
    "SubscriptionTuning",
    "create_bus",
    "encode_each",
    "encode_message",
    "reconnect_delay_s",
]


def create_bus(*, redis_url: str | None, key_prefix: str, tuning: SubscriptionTuning | None = None) -> Bus:
    """Returns a RedisBus when a URL is given, otherwise an InProcessBus (the embedded mode)."""
    if redis_url:
        return RedisBus(redis_url, key_prefix, tuning=tuning)
    return InProcessBus()
