"""Wire messages of the hub: what clients may send, and the close codes the server uses."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from realtime.socket_wire import AuthMessage, WireMessage, parse_message

# Client messages are small commands; anything larger is a mistake or an attack.
MAX_CLIENT_MESSAGE_CHARS = 8192

# Close codes of the hub's own, in the private range (4000-4999), modelled on the HTTP statuses they
# resemble. Those shared with consult signalling: signing in (4401, 4440) in `realtime.socket_signin`,
# the standard 1001 and 1013 in `realtime.socket_wire`.
CLOSE_HEARTBEAT_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4429

Scope = Literal["ward", "patient", "alarms", "notifications"]


class SubscribeMessage(WireMessage):
    type: Literal["subscribe"]
    scope: Scope
    # For a patient's own alarm feed the id may be left out: it is the caller's patient id; for the
    # in-app notifications feed it is always the caller's own user id.
    id: uuid.UUID | None = None


class UnsubscribeMessage(WireMessage):
    type: Literal["unsubscribe"]
    scope: Scope
    id: uuid.UUID | None = None


class PongMessage(WireMessage):
    type: Literal["pong"]
    seq: int | None = None


ClientMessage = Annotated[
    AuthMessage | SubscribeMessage | UnsubscribeMessage | PongMessage, Field(discriminator="type")
]
_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = frozenset({"auth", "subscribe", "unsubscribe", "pong"})


def parse_client_message(text: str) -> ClientMessage:
    """Parses and validates one client message; ProtocolError explains what is wrong."""
    return parse_message(
        text, messages=_CLIENT_MESSAGE, types=CLIENT_TYPES, max_chars=MAX_CLIENT_MESSAGE_CHARS
    )


def error_message(code: str, detail: str, **context: Any) -> dict[str, Any]:
    """The server's `error` message."""
    return {"type": "error", "code": code, "detail": detail, **context}
