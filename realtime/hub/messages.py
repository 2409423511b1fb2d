"""Wire messages of the hub: what clients may send, and the close codes the server uses."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

# Client messages are small commands; anything larger is a mistake or an attack.
MAX_CLIENT_MESSAGE_CHARS = 8192

# Close codes in the private range (4000-4999), modelled on the HTTP statuses they resemble.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_HEARTBEAT_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4429
CLOSE_GOING_AWAY = 1001
# 4440 (the access token expired without a fresh `auth`) is shared with consult signalling:
# realtime.socket_signin.CLOSE_TOKEN_EXPIRED.

Scope = Literal["ward", "patient", "alarms", "notifications"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthMessage(_Message):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class SubscribeMessage(_Message):
    type: Literal["subscribe"]
    scope: Scope
    # For a patient's own alarm feed the id may be left out: it is the caller's patient id; for the
    # in-app notifications feed it is always the caller's own user id.
    id: uuid.UUID | None = None


class UnsubscribeMessage(_Message):
    type: Literal["unsubscribe"]
    scope: Scope
    id: uuid.UUID | None = None


class PongMessage(_Message):
    type: Literal["pong"]
    seq: int | None = None


ClientMessage = Annotated[
    AuthMessage | SubscribeMessage | UnsubscribeMessage | PongMessage, Field(discriminator="type")
]
_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class ProtocolError(Exception):
    """A client message the hub refuses; answered with an `error` message, the connection stays open."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_client_message(text: str) -> ClientMessage:
    """Parses and validates one client message; ProtocolError explains what is wrong."""
    if len(text) > MAX_CLIENT_MESSAGE_CHARS:
        raise ProtocolError("too-large", f"Messages are limited to {MAX_CLIENT_MESSAGE_CHARS} characters.")
    try:
        raw = json.loads(text)
    except ValueError:
        raise ProtocolError("invalid-json", "The message is not JSON.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError("invalid-message", "A message is a JSON object with a string `type`.")
    if raw["type"] not in {"auth", "subscribe", "unsubscribe", "pong"}:
        raise ProtocolError("unknown-type", f"Unknown message type {raw['type'][:40]!r}.")
    try:
        return _CLIENT_MESSAGE.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "message"
        raise ProtocolError("invalid-message", f"{where}: {first['msg']}") from None


def error_message(code: str, detail: str, **context: Any) -> dict[str, Any]:
    """The server's `error` message."""
    return {"type": "error", "code": code, "detail": detail, **context}
