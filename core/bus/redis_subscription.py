"""One Redis pub/sub subscription on its own connection, which reconnects by itself.

Redis pub/sub stores nothing. A message published while a subscriber is disconnected is lost for
that subscriber, so a subscription that loses its connection reconnects by itself (capped
exponential backoff with jitter), subscribes again and then yields one `resync` marker per channel
and per pattern: the consumer must reload what it shows from the system of record. A consumer too
slow for Redis's pub/sub output-buffer limit is disconnected by Redis and recovers the same way.

Channels can be added and removed while the subscription is open (`add`, `remove`), so that a
consumer such as the WebSocket hub receives only what its clients watch; `add` returns once Redis
has confirmed, so a publish from then on is guaranteed to arrive.

Every channel carries `key_prefix` on the wire so that deployments and test runs sharing one Redis
never see each other; consumers see names without it. Choose prefixes that are not prefixes of one
another, or a pattern on the shorter one would also match the longer one's channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from redis.asyncio import ConnectionPool
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.bus.backoff import reconnect_delay_s
from core.bus.interface import BusMessage, looks_like_object

logger = logging.getLogger(__name__)

# What a broken or unreachable connection raises; the builtin TimeoutError is an OSError.
_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass(frozen=True, slots=True)
class SubscriptionTuning:
    """How a subscription reconnects and how soon it notices a silent connection."""

    reconnect_base_s: float = 0.2
    reconnect_cap_s: float = 5.0
    # After this long without traffic we PING; without an answer for as long again the connection
    # is treated as dead. TCP alone can take minutes to notice a peer that vanished.
    idle_ping_s: float = 15.0
    connect_timeout_s: float = 5.0


def escape_glob(text: str) -> str:
    """Escapes Redis glob metacharacters so that a key prefix only ever matches itself."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class RedisSubscription:
    """A subscription on its own connection; `client_name` names that connection in CLIENT LIST."""

    def __init__(
        self,
        *,
        url: str,
        key_prefix: str,
        channels: list[str],
        patterns: list[str],
        tuning: SubscriptionTuning,
        registry: set[RedisSubscription],
    ) -> None:
        self._url = url
        self._prefix = key_prefix
        # An ordered set: channels come and go while the subscription is open (`add`, `remove`).
        self._channels = dict.fromkeys(channels)
        self._patterns = patterns
        # Wire pattern -> the caller's pattern, to report which pattern matched.
        self._wire_patterns = {escape_glob(key_prefix) + pattern: pattern for pattern in patterns}
        self._tuning = tuning
        # The bus's set of open subscriptions, so that closing the bus closes them.
        self._registry = registry
        self.client_name = f"ownat-bus-{secrets.token_hex(6)}"
        self._pool: ConnectionPool | None = None
        self._pubsub: PubSub | None = None
        self._pending: deque[BusMessage] = deque()
        # Wire channel -> the futures of `add` calls waiting for Redis to confirm it.
        self._confirming: dict[str, list[asyncio.Future[None]]] = {}
        self._awaiting_pong = False
        self._open = False
        self._closed = False

    async def __aenter__(self) -> Self:
        if self._open or self._closed:
            raise RuntimeError("a subscription can be entered only once")
        # The first connection fails loudly (wrong URL, Redis down at start); only an established
        # subscription reconnects by itself.
        self._registry.add(self)
        try:
            self._pending.extend(await self._connect())
        except BaseException:
            await self.close()
            raise
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BusMessage:
        if not self._open:
            raise RuntimeError("enter the subscription with `async with` before iterating")
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._pending:
                return self._pending.popleft()
            try:
                message = await self._read()
            except Exception as error:
                if self._closed:
                    # close() from another task tore the connection down under this read.
                    raise StopAsyncIteration from None
                if not isinstance(error, _CONNECTION_ERRORS):
                    raise
                await self._reconnect(error)
                continue
            if message is not None:
                return message

    async def add(self, channels: list[str]) -> None:
        """Subscribes to more channels; returns once Redis confirms (or the connection was renewed).

        The confirmation arrives on the reading side: some task must be iterating the subscription.
        """
        new = [channel for channel in channels if channel not in self._channels]
        if not new or self._closed:
            return
        self._channels.update(dict.fromkeys(new))
        if self._pubsub is None:
            return  # reconnecting: the new connection subscribes every channel, then says resync
        loop = asyncio.get_running_loop()
        waiting = []
        for channel in new:
            future = loop.create_future()
            self._confirming.setdefault(self._prefix + channel, []).append(future)
            waiting.append(future)
        try:
            try:
                await self._pubsub.subscribe(*(self._prefix + channel for channel in new))
            except _CONNECTION_ERRORS:
                # The reading side reconnects, subscribes everything in `_channels` and yields resync.
                return
            # Confirmations come on the reading side, so the subscription must be being iterated.
            async with asyncio.timeout(self._tuning.connect_timeout_s):
                await asyncio.gather(*waiting)
        finally:
            for channel in new:
                self._confirming.pop(self._prefix + channel, None)

    async def remove(self, channels: list[str]) -> None:
        """Unsubscribes from channels added earlier; messages already on the way may still arrive."""
        gone = [channel for channel in channels if channel in self._channels]
        for channel in gone:
            del self._channels[channel]
        if gone and self._pubsub is not None and not self._closed:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await self._pubsub.unsubscribe(*(self._prefix + channel for channel in gone))

    async def close(self) -> None:
        """Ends the subscription; closing its connection unsubscribes it on the server."""
        if self._closed:
            return
        self._closed = True
        self._registry.discard(self)
        self._confirm_all()
        await self._release()

    def _confirm_all(self) -> None:
        # A new connection subscribed to everything (or the subscription closed): nobody waits longer.
        for futures in self._confirming.values():
            for future in futures:
                if not future.done():
                    future.set_result(None)
        self._confirming.clear()

    async def _connect(self) -> list[BusMessage]:
        # A pool of one connection per subscription: its own client name, and no silent retries by
        # redis-py, which would resubscribe without telling us that messages were lost.
        self._pool = ConnectionPool.from_url(
            self._url,
            decode_responses=True,
            client_name=self.client_name,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=self._tuning.connect_timeout_s,
            socket_keepalive=True,
            max_connections=1,
        )
        self._pubsub = PubSub(connection_pool=self._pool)
        self._awaiting_pong = False
        wire_channels = [self._prefix + channel for channel in self._channels]
        if wire_channels:
            await self._pubsub.subscribe(*wire_channels)
        if self._wire_patterns:
            await self._pubsub.psubscribe(*self._wire_patterns)
        return await self._await_confirmations(self._pubsub, wire_channels)

    async def _await_confirmations(self, pubsub: PubSub, wire_channels: list[str]) -> list[BusMessage]:
        # Only once Redis confirms every name is a publish guaranteed to reach us; messages on names
        # confirmed earlier may arrive in between and are kept, in order.
        expected = {("subscribe", name) for name in wire_channels}
        expected |= {("psubscribe", name) for name in self._wire_patterns}
        early: list[BusMessage] = []
        async with asyncio.timeout(self._tuning.connect_timeout_s):
            while expected:
                raw = await pubsub.get_message(timeout=self._tuning.connect_timeout_s)
                if raw is None:
                    continue
                expected.discard((raw["type"], raw["channel"]))
                message = self._to_bus_message(raw)
                if message is not None:
                    early.append(message)
        return early

    async def _read(self) -> BusMessage | None:
        assert self._pubsub is not None, "read before connect"
        raw = await self._pubsub.get_message(timeout=self._tuning.idle_ping_s)
        if raw is not None:
            self._awaiting_pong = False
            return self._to_bus_message(raw)
        if self._awaiting_pong:
            raise RedisConnectionError("no answer to PING on the subscription connection")
        self._awaiting_pong = True
        await self._pubsub.ping()
        return None

    def _to_bus_message(self, raw: dict[str, Any]) -> BusMessage | None:
        if raw["type"] == "subscribe":
            for future in self._confirming.pop(raw["channel"], ()):
                if not future.done():
                    future.set_result(None)
            return None
        if raw["type"] not in ("message", "pmessage"):
            return None  # pong, unsubscribe confirmations
        channel: str = raw["channel"]
        payload: str = raw["data"]
        if not looks_like_object(payload):
            # Someone else wrote into our namespace; one bad payload must not end every dashboard.
            logger.warning("dropped a bus payload that is not a JSON object", extra={"channel": channel})
            return None
        pattern = self._wire_patterns.get(raw["pattern"]) if raw["type"] == "pmessage" else None
        # Parsed by the consumer, which knows the channel's struct (`core.bus.channels`).
        return BusMessage(channel=channel.removeprefix(self._prefix), payload=payload, pattern=pattern)

    async def _reconnect(self, error: BaseException) -> None:
        logger.warning(
            "bus subscription lost its connection; reconnecting",
            extra={"client_name": self.client_name, "error": repr(error)},
        )
        await self._release()
        attempt = 0
        while True:
            await asyncio.sleep(
                reconnect_delay_s(
                    attempt, base_s=self._tuning.reconnect_base_s, cap_s=self._tuning.reconnect_cap_s
                )
            )
            if self._closed:
                return
            try:
                early = await self._connect()
            except _CONNECTION_ERRORS as retry_error:
                await self._release()
                attempt += 1
                logger.info(
                    "bus subscription reconnect failed",
                    extra={"client_name": self.client_name, "attempt": attempt, "error": repr(retry_error)},
                )
                continue
            break
        if self._closed:
            await self._release()
            return
        self._confirm_all()
        self._pending.extend(BusMessage(channel=name, kind="resync") for name in self._channels)
        self._pending.extend(BusMessage(channel=name, kind="resync", pattern=name) for name in self._patterns)
        self._pending.extend(early)
        logger.info("bus subscription resubscribed", extra={"client_name": self.client_name})

    async def _release(self) -> None:
        pubsub, pool = self._pubsub, self._pool
        self._pubsub, self._pool = None, None
        # Tearing down a connection that is already broken may raise again; there is nothing left to do.
        with contextlib.suppress(*_CONNECTION_ERRORS):
            if pubsub is not None:
                await pubsub.aclose()
            if pool is not None:
                await pool.aclose()
