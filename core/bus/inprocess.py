"""The in-process bus for the embedded single-process mode: asyncio queues, no network.

Payloads still go through JSON so that consumers see exactly what they would see over Redis
(datetimes as strings, a private copy per subscriber). Patterns use `fnmatch.fnmatchcase`,
which agrees with Redis globs on `*`, `?` and `[abc]`; Redis's backslash escapes and `[^a]`
have no equivalent here. Everything runs on one event loop: publish from other threads through
`loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from types import TracebackType
from typing import Self

from core.bus.interface import (
    BusClosedError,
    BusMessage,
    Message,
    encode_each,
    encode_message,
    normalise_names,
)


class InProcessSubscription:
    """One subscriber's unbounded queue; closing it stops the iteration."""

    def __init__(self, *, bus: InProcessBus, channels: list[str], patterns: list[str]) -> None:
        self._bus = bus
        self._channels = set(channels)
        self._patterns = patterns
        # None is the end-of-stream sentinel put by close().
        self._queue: asyncio.Queue[BusMessage | None] = asyncio.Queue()
        self._open = False
        self._closed = False

    async def __aenter__(self) -> Self:
        if self._open or self._closed:
            raise RuntimeError("a subscription can be entered only once")
        self._bus.attach(self)
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
        if self._closed:
            raise StopAsyncIteration
        message = await self._queue.get()
        if message is None:
            raise StopAsyncIteration
        return message

    def offer(self, channel: str, payload: str | bytes) -> None:
        """Queues the payload once per matching channel and once per matching pattern, as Redis does."""
        if self._closed:
            return
        # Each message parses its own copy when read, so no subscriber sees another's changes.
        if channel in self._channels:
            self._queue.put_nowait(BusMessage(channel=channel, payload=payload))
        for pattern in self._patterns:
            if fnmatchcase(channel, pattern):
                self._queue.put_nowait(BusMessage(channel=channel, payload=payload, pattern=pattern))

    async def add(self, channels: list[str]) -> None:
        """Receives these channels too, from now on."""
        self._channels.update(channels)

    async def remove(self, channels: list[str]) -> None:
        """Stops receiving these channels."""
        self._channels.difference_update(channels)

    async def close(self) -> None:
        """Unsubscribes; a consumer blocked in iteration receives the end of the stream."""
        if self._closed:
            return
        self._closed = True
        self._bus.detach(self)
        self._queue.put_nowait(None)


class InProcessBus:
    """A Bus whose publishers and subscribers share one process and one event loop."""

    def __init__(self) -> None:
        self._subscriptions: set[InProcessSubscription] = set()
        self._closed = False

    async def publish(self, channel: str, message: Message) -> None:
        """Delivers the message to every current subscriber whose channel or pattern matches."""
        self._ensure_open()
        payload = encode_message(message)
        for subscription in list(self._subscriptions):
            subscription.offer(channel, payload)

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        """Delivers each message in order, as `publish` would."""
        self._ensure_open()
        for channel, payload in encode_each(messages):
            for subscription in list(self._subscriptions):
                subscription.offer(channel, payload)

    def subscribe(self, channels: Iterable[str] = (), patterns: Iterable[str] = ()) -> InProcessSubscription:
        """Returns a subscription that starts receiving when entered."""
        channel_list, pattern_list = normalise_names(channels=channels, patterns=patterns)
        return InProcessSubscription(bus=self, channels=channel_list, patterns=pattern_list)

    async def ping(self) -> None:
        """Raises BusClosedError once the bus is closed; there is nothing else that can fail."""
        self._ensure_open()

    async def close(self) -> None:
        """Ends every open subscription and refuses further use."""
        self._closed = True
        for subscription in list(self._subscriptions):
            await subscription.close()

    def attach(self, subscription: InProcessSubscription) -> None:
        """Registers an entered subscription."""
        self._ensure_open()
        self._subscriptions.add(subscription)

    def detach(self, subscription: InProcessSubscription) -> None:
        """Forgets a closed subscription."""
        self._subscriptions.discard(subscription)

    def _ensure_open(self) -> None:
        if self._closed:
            raise BusClosedError("the bus is closed")
