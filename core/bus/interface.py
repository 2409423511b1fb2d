"""What every bus offers: the Bus and Subscription protocols, the message types and the wire encoding."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import Any, Literal, Protocol, Self
from uuid import UUID

import msgspec

# A payload of `core.bus.channels` (encoded by msgspec), or a dict (encoded by `encode_message`).
Message = dict[str, Any] | msgspec.Struct


class BusClosedError(RuntimeError):
    """Raised when a closed bus is used; a programming or shutdown-ordering error, not a client error."""


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One delivered message, or a `resync` marker saying messages on `channel` may have been missed.

    `payload` is the JSON as it travelled; `data` parses it as a dict on first use, and subscribers
    that know the channel decode `payload` as its struct instead (`core.bus.decode_payload`), so the
    readings' path parses each message once, in C. `pattern` names the subscribed pattern that
    matched, or None for a plain channel subscription.
    """

    channel: str
    payload: str | bytes = b""
    kind: Literal["message", "resync"] = "message"
    pattern: str | None = None
    _parsed: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def data(self) -> dict[str, Any]:
        """The payload as a dict (empty for a resync marker); ValueError if it is not a JSON object."""
        if self._parsed is None:
            # Frozen for its users; the parse is cached once, on the consumer's own copy.
            object.__setattr__(self, "_parsed", decode_message(self.payload) if self.payload else {})
        assert self._parsed is not None
        return self._parsed


class Subscription(Protocol):
    """An open subscription: `async with` it to subscribe, iterate it to receive, leave to unsubscribe."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> BusMessage: ...

    async def add(self, channels: list[str]) -> None:
        """Subscribes to more channels; messages published once it returns are received."""
        ...

    async def remove(self, channels: list[str]) -> None:
        """Unsubscribes from channels (not patterns)."""
        ...


class Bus(Protocol):
    """Fire-and-forget publish/subscribe between processes: nothing is stored, nothing is replayed."""

    async def publish(self, channel: str, message: Message) -> None: ...

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None: ...

    def subscribe(self, channels: Iterable[str] = (), patterns: Iterable[str] = ()) -> Subscription: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


# Stateless, so one for the process.
_STRUCT_ENCODER = msgspec.json.Encoder()


def _json_default(value: object) -> object:
    # The types our domain objects carry; anything else is a bug in the caller and must fail loudly.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        # Decimal as a string: money must never pass through a float.
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable on the bus")


def encode_message(message: Message) -> str | bytes:
    """Serialises a message to compact JSON; datetimes, dates, UUIDs, Decimals and Enums become strings.

    A struct of `core.bus.channels` is encoded by msgspec, in C: the readings' path depends on it.
    """
    if isinstance(message, msgspec.Struct):
        return _STRUCT_ENCODER.encode(message)
    if not isinstance(message, dict):
        raise TypeError(f"bus messages are dicts, not {type(message).__name__}")
    return json.dumps(message, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def encode_each(messages: Sequence[tuple[str, Message]]) -> list[tuple[str, str | bytes]]:
    """(channel, payload) pairs; a message sent to several channels is serialised only once."""
    payloads: dict[int, str | bytes] = {}
    return [
        (channel, payloads.get(id(message)) or payloads.setdefault(id(message), encode_message(message)))
        for channel, message in messages
    ]


def looks_like_object(payload: str | bytes) -> bool:
    """A cheap first check on arrival, before anyone parses: every encoder here writes `{` first."""
    return payload[:1] in ("{", b"{")


def decode_message(payload: str | bytes) -> dict[str, Any]:
    """Parses a payload written by `encode_message`."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("bus payload is not a JSON object")
    return data


def normalise_names(*, channels: Iterable[str], patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    """Validates and de-duplicates subscription arguments, keeping their order."""
    # A bare string is iterable too; subscribing to its letters is never what the caller meant.
    if isinstance(channels, str) or isinstance(patterns, str):
        raise TypeError("channels and patterns are iterables of names, not a single string")
    unique_channels = list(dict.fromkeys(channels))
    unique_patterns = list(dict.fromkeys(patterns))
    if not unique_channels and not unique_patterns:
        raise ValueError("subscribe to at least one channel or pattern")
    return unique_channels, unique_patterns
