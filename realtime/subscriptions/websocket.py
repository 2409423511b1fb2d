"""The websocket channel: `bind-with-token <token>`, a handshake per subscription, then notifications.

The client sends the token of `$get-ws-binding-token` as its first text frame; the server answers
each bound subscription's handshake Bundle, then every notification Bundle as a text frame, and a
heartbeat Bundle whenever the subscription's heartbeat period (60 s unless chosen) passes quietly.
A client that falls `QUEUE_LIMIT` notifications behind is closed: it catches up with `$events`.
Before each heartbeat the subscriptions are looked up again: one that was deleted, turned off or
whose app's authorisation ended closes the socket (policy), rather than being kept alive quietly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core import audit
from core.db import utc_now
from core.errors import NotAuthenticated
from core.sessions import transaction
from core.settings import Settings
from realtime.subscriptions.dispatcher import SubscriptionDispatcher
from realtime.subscriptions.grants import still_authorised
from realtime.subscriptions.models import FhirSubscription
from realtime.subscriptions.service import handshake_bundle, heartbeat_bundle, read_binding_token

log = logging.getLogger(__name__)

BIND_PREFIX = "bind-with-token "
QUEUE_LIMIT = 1000
DEFAULT_HEARTBEAT_S = 60
FIRST_MESSAGE_TIMEOUT_S = 30.0
CLOSE_POLICY = 1008
CLOSE_TOO_SLOW = 1013


class Transport(Protocol):
    async def send_text(self, text: str) -> None: ...

    async def receive_text(self) -> str | None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


def _text(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, separators=(",", ":"))


async def serve_socket(
    transport: Transport, *, dispatcher: SubscriptionDispatcher, settings: Settings
) -> None:
    """Serves one websocket until the client leaves."""
    try:
        async with asyncio.timeout(FIRST_MESSAGE_TIMEOUT_S):
            first = await transport.receive_text()
    except TimeoutError:
        await transport.close(CLOSE_POLICY, "send bind-with-token first")
        return
    if first is None:
        return
    try:
        if not first.startswith(BIND_PREFIX):
            raise NotAuthenticated("send 'bind-with-token <token>' first")
        user_id, subscription_ids = read_binding_token(
            first.removeprefix(BIND_PREFIX).strip(), settings=settings
        )
        rows = await _bound(dispatcher, user_id, subscription_ids)
    except NotAuthenticated as refusal:
        await transport.close(CLOSE_POLICY, refusal.detail[:120])
        return
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_LIMIT)
    overflow = asyncio.Event()

    def deliver(bundle: dict[str, Any]) -> None:
        try:
            queue.put_nowait(bundle)
        except asyncio.QueueFull:
            overflow.set()

    unbinds = [dispatcher.bind(row.id, deliver) for row in rows]
    reader = asyncio.create_task(_drain(transport))
    try:
        for row in rows:
            await transport.send_text(_text(handshake_bundle(row)))
        heartbeat_s = min(row.heartbeat_period_s or DEFAULT_HEARTBEAT_S for row in rows)
        while not reader.done():
            if overflow.is_set():
                await transport.close(CLOSE_TOO_SLOW, "too far behind: catch up with $events")
                return
            try:
                async with asyncio.timeout(heartbeat_s):
                    bundle = await queue.get()
            except TimeoutError:
                if not await _still_active(dispatcher, [row.id for row in rows]):
                    await transport.close(CLOSE_POLICY, "the subscription ended: see its $status")
                    return
                for row in rows:
                    await transport.send_text(_text(heartbeat_bundle(row)))
                continue
            await transport.send_text(_text(bundle))
    except (ConnectionError, RuntimeError):
        return  # the client went away mid-send
    finally:
        for unbind in unbinds:
            unbind()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _drain(transport: Transport) -> None:
    # Clients send nothing after binding; reading notices when they leave.
    while await transport.receive_text() is not None:
        pass


async def _bound(
    dispatcher: SubscriptionDispatcher, user_id: uuid.UUID, subscription_ids: list[uuid.UUID]
) -> list[FhirSubscription]:
    """The token's websocket subscriptions, if still active; audited. The token was only issued to
    their owner (or an administrator) by `$get-ws-binding-token`, and its signature proves it."""
    async with transaction(dispatcher.sessions) as session:
        found = await session.execute(
            select(FhirSubscription, still_authorised(utc_now())).where(
                FhirSubscription.id.in_(subscription_ids)
            )
        )
        usable = [
            row
            for row, granted in found
            if granted and row.status == "active" and row.channel_type == "websocket"
        ]
        for row in usable:
            audit.record(
                session,
                actor=None,
                action="fhir.subscription.bind",
                resource_type="fhir.Subscription",
                resource_id=row.id,
                patient_id=row.patient_id,
                detail={"user_id": str(user_id)},
            )
        session.expunge_all()
    if not usable or len(usable) != len(subscription_ids):
        raise NotAuthenticated("the token's subscription is gone, inactive or not a websocket")
    return usable


async def _still_active(dispatcher: SubscriptionDispatcher, subscription_ids: list[uuid.UUID]) -> bool:
    """Whether every bound subscription is still active, its app's grant (if any) still standing."""
    try:
        async with transaction(dispatcher.sessions) as session:
            active = await session.scalar(
                select(func.count()).where(
                    FhirSubscription.id.in_(subscription_ids),
                    FhirSubscription.status == "active",
                    still_authorised(utc_now()),
                )
            )
    except SQLAlchemyError:
        # The database is away for a moment: keep the socket, ask again at the next heartbeat.
        log.warning("could not check a websocket's subscriptions", exc_info=True)
        return True
    return active == len(set(subscription_ids))
