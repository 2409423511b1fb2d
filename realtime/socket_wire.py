"""What the live hub (`/ws`) and consult signalling (`/ws/consult`) have in common on the wire.

Both speak JSON objects with a `type` over a `Transport`; the first client message is `auth`
(`realtime.socket_signin`). A message that a server refuses is answered with an `error` carrying
the `ProtocolError`'s code, and the socket stays open. Each protocol lists its own messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

# A client that stopped reading cannot complete a close handshake; do not wait on it for long.
CLOSE_TIMEOUT_S = 2.0
# Standard close codes (RFC 6455): the server is stopping, or not running yet.
CLOSE_GOING_AWAY = 1001
# The server cannot serve the socket now (Redis or the bus out of reach): try again shortly.
CLOSE_TRY_AGAIN_LATER = 1013

M = TypeVar("M")


class Transport(Protocol):
    """What a socket's server needs of a WebSocket; `api.websocket_transport` adapts Starlette's."""

    async def send_text(self, text: str) -> None: ...

    async def receive_text(self) -> str | None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


async def close_quietly(transport: Transport, code: int, reason: str) -> None:
    """Closes the socket, giving up after `CLOSE_TIMEOUT_S` or when the client is already gone."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await transport.close(code, reason)


class WireMessage(BaseModel):
    """The base of every message: an unknown field is refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthMessage(WireMessage):
    """First message: an access token (or, on consult signalling, a guest ticket); never in the URL.

    Sent again on the open socket with a fresh token of the same caller before the first expires.
    """

    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class ProtocolError(Exception):
    """A client message the server refuses; answered with an `error` message, the socket stays open."""

    def __init__(self, code: str, detail: str, *, ref: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref  # the type of the refused message, when it has a known one


def parse_message(text: str, *, messages: TypeAdapter[M], types: frozenset[str], max_chars: int) -> M:
    """Parses and validates one client message of a protocol; ProtocolError says what is wrong."""
    if len(text) > max_chars:
        raise ProtocolError("too-large", f"Messages are limited to {max_chars} characters.")
    try:
        raw = json.loads(text)
    except ValueError:
        raise ProtocolError("invalid-json", "The message is not JSON.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError("invalid-message", "A message is a JSON object with a string `type`.")
    if raw["type"] not in types:
        raise ProtocolError("unknown-type", f"Unknown message type {raw['type'][:40]!r}.")
    try:
        return messages.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "message"
        raise ProtocolError("invalid-message", f"{where}: {first['msg']}", ref=raw["type"]) from None
