"""The Redis bus: pub/sub shared by every api instance and ingest worker.

Every channel carries `key_prefix` on the wire so that deployments and test runs sharing one Redis
never see each other; consumers see names without it. Redis pub/sub stores nothing: see
`core.bus.redis_subscription` for how a subscription recovers from a lost connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from redis.asyncio import Redis

from core.bus.interface import BusClosedError, Message, encode_each, encode_message, normalise_names
from core.bus.redis_subscription import RedisSubscription, SubscriptionTuning


class RedisBus:
    """A Bus on Redis pub/sub: one shared pool for publishing, one connection per subscription."""

    def __init__(self, url: str, key_prefix: str, *, tuning: SubscriptionTuning | None = None) -> None:
        self._url = url
        self._prefix = key_prefix
        self._tuning = tuning or SubscriptionTuning()
        self._client = Redis.from_url(url)
        self._subscriptions: set[RedisSubscription] = set()
        self._closed = False

    async def publish(self, channel: str, message: Message) -> None:
        """Publishes to the prefixed channel; returns once Redis has handed it to current subscribers."""
        self._ensure_open()
        await self._client.publish(self._prefix + channel, encode_message(message))

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        """Publishes in order in one round trip (a pipeline without MULTI): the ingest fan-out's path."""
        self._ensure_open()
        if not messages:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for channel, payload in encode_each(messages):
                pipe.publish(self._prefix + channel, payload)
            await pipe.execute()

    def subscribe(self, channels: Iterable[str] = (), patterns: Iterable[str] = ()) -> RedisSubscription:
        """Returns a subscription that connects and subscribes when entered."""
        self._ensure_open()
        channel_list, pattern_list = normalise_names(channels=channels, patterns=patterns)
        subscription = RedisSubscription(
            url=self._url,
            key_prefix=self._prefix,
            channels=channel_list,
            patterns=pattern_list,
            tuning=self._tuning,
            registry=self._subscriptions,
        )
        return subscription

    async def ping(self) -> None:
        """Raises if Redis cannot be reached or the bus is closed."""
        self._ensure_open()
        await self._client.ping()

    async def close(self) -> None:
        """Ends every open subscription and closes the publishing pool."""
        self._closed = True
        for subscription in list(self._subscriptions):
            await subscription.close()
        await self._client.aclose()

    def _ensure_open(self) -> None:
        if self._closed:
            raise BusClosedError("the bus is closed")
