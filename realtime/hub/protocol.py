"""One WebSocket's life: authenticate, then serve subscriptions until either side closes."""

from __future__ import annotations

import asyncio
import logging

from core.errors import DomainError
from core.principal import Principal
from realtime.hub.connection import Connection
from realtime.hub.hub import Hub
from realtime.hub.keys import SubscriptionKey
from realtime.hub.messages import (
    PongMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    error_message,
    parse_client_message,
)
from realtime.socket_signin import SignedIn, receive_sign_in, renew_sign_in, same_identity, sign_in
from realtime.socket_wire import AuthMessage, ProtocolError, Transport, close_quietly

log = logging.getLogger(__name__)

# A dashboard watches a ward or a handful of patients; more is a runaway client.
MAX_SUBSCRIPTIONS = 64


async def serve_connection(hub: Hub, transport: Transport) -> None:
    """Serves an accepted WebSocket until it closes; the first message must authenticate it."""
    signed_in = await receive_sign_in(
        transport,
        parse=parse_client_message,
        authenticate=lambda token: _sign_in(hub, token),
        timeout_s=hub.tuning.auth_timeout_s,
    )
    if signed_in is None:
        return
    principal = signed_in.principal
    connection = hub.connect(transport, principal, expires_at=signed_in.expires_at)
    connection.send(_ready(signed_in) | hub.greeting(principal))
    tasks = [
        asyncio.create_task(connection.run_writer()),
        asyncio.create_task(connection.run_heartbeat()),
        asyncio.create_task(connection.run_expiry()),
        asyncio.create_task(_read(hub, connection)),
        asyncio.create_task(connection.closed.wait()),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                # The client went away mid-send, or a bug: either way this connection is over.
                log.info("websocket ended: %r", task.exception())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.disconnect(connection)
        await connection.stop()
    if connection.close_code is not None:
        await close_quietly(transport, connection.close_code, connection.close_reason)


def _ready(signed_in: SignedIn, *, renewed: bool = False) -> dict[str, object]:
    """The answer to a sign-in; `renewed` when it was a fresh token on the open socket."""
    principal = signed_in.principal
    return {
        "type": "ready",
        "user_id": str(principal.user_id),
        "role": principal.role.value,
        "expires_at": signed_in.expires_at.isoformat(),
        "renewed": renewed,
    }


async def _sign_in(hub: Hub, token: str) -> SignedIn:
    return await sign_in(token, settings=hub.settings, revocations=hub.revocations)


async def _read(hub: Hub, connection: Connection) -> None:
    while True:
        text = await connection.transport.receive_text()
        if text is None:
            return
        try:
            message = parse_client_message(text)
            if isinstance(message, PongMessage):
                connection.pong()
            elif isinstance(message, SubscribeMessage):
                await _subscribe(hub, connection, _key(connection.principal, message))
            elif isinstance(message, UnsubscribeMessage):
                hub.unsubscribe(connection, _key(connection.principal, message))
            else:
                await _renew(hub, connection, message)
        except ProtocolError as error:
            connection.send(error_message(error.code, error.detail))


async def _renew(hub: Hub, connection: Connection, message: AuthMessage) -> None:
    """A fresh token on the open socket; refused, the socket keeps its sign-in and its expiry."""
    signed_in = await renew_sign_in(
        message.token,
        authenticate=lambda token: _sign_in(hub, token),
        keeps_caller=lambda fresh: same_identity(connection.principal, fresh.principal),
    )
    connection.renew(signed_in.principal, signed_in.expires_at)
    connection.send(_ready(signed_in, renewed=True) | hub.greeting(signed_in.principal))


def _key(principal: Principal, message: SubscribeMessage | UnsubscribeMessage) -> SubscriptionKey:
    target = message.id
    if target is None and message.scope == "alarms":
        target = principal.patient_id
    if target is None and message.scope == "notifications":
        target = principal.user_id
    if target is None:
        raise ProtocolError("invalid-message", f"A {message.scope} subscription needs an `id`.")
    return SubscriptionKey(message.scope, target)


async def _subscribe(hub: Hub, connection: Connection, key: SubscriptionKey) -> None:
    if key in connection.feeds:
        raise ProtocolError("already-subscribed", f"Already subscribed to this {key.scope}.")
    if len(connection.feeds) >= MAX_SUBSCRIPTIONS:
        raise ProtocolError("too-many-subscriptions", f"At most {MAX_SUBSCRIPTIONS} subscriptions.")
    # Routed before the snapshot is read, so no delta can fall between the snapshot and the feed.
    await hub.subscribe(connection, key)
    try:
        snapshot = await connection.load_snapshot(key, "subscribe")
    except DomainError as error:
        hub.unsubscribe(connection, key)
        connection.send(error_message(error.code, str(error), **key.label()))
        return
    connection.feed_ready(key, snapshot)
