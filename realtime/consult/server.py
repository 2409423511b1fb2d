"""The consult server of one api process: local connections, shared room state, and the relay.

Every instance subscribes to its own bus channel (`core.bus.consult_instance`); room state records on
which instance each participant is connected, so an event for a participant is handed to its
connection directly when it is local, or published to its instance's channel otherwise. The bus
keeps order per channel, so the events between two participants arrive in the order sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import (
    IDENTITY_SESSIONS,
    Bus,
    BusMessage,
    ConsultRelay,
    SessionsEnded,
    consult_instance,
    decode_payload,
    reconnect_delay_s,
)
from core.identity import TokenRevocations, ends_session_of, sessions_ended
from core.sessions import transaction
from core.settings import Settings
from core.tasks import cancel_and_wait
from realtime.consult.connection import ConsultConnection
from realtime.consult.state import Member, RoomStore
from realtime.socket_signin import CLOSE_NOT_AUTHENTICATED, SESSION_ENDED_REASON

log = logging.getLogger(__name__)

# A third of the default pool (10 + 20 overflow): a burst of joins must not starve REST requests.
DB_SLOTS = 10


class ConsultServer:
    """Owned by the app's lifespan: `start()` after the resources open, `stop()` before they close."""

    def __init__(
        self,
        *,
        bus: Bus,
        rooms: RoomStore,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        revocations: TokenRevocations,
    ) -> None:
        self.bus, self.rooms, self.sessions = bus, rooms, sessions
        self.settings, self.revocations = settings, revocations
        self.instance = uuid.uuid4().hex
        self.local: dict[uuid.UUID, ConsultConnection] = {}
        # Every signed-in socket here, joined or not: those of a user whose sessions end are closed.
        self.signed_in: set[ConsultConnection] = set()
        self.listening = asyncio.Event()
        # Signalling's units of work queue here rather than drain the pool shared with REST requests.
        self._db_slots = asyncio.Semaphore(DB_SLOTS)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Starts the relay's subscription; sockets wait for it (`ready()`), the app does not."""
        self._task = asyncio.create_task(self._listen(), name="consult-relay")

    async def ready(self, timeout_s: float) -> bool:
        """Whether the relay is subscribed, waiting up to `timeout_s` (False while the bus is down)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.listening.wait()
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """Closes every local connection and stops listening."""
        for connection in list(self.local.values()):
            connection.close(1001)
        if self._task is not None:
            await cancel_and_wait(self._task)
        await self.rooms.close()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the signalling server, within its share of the database pool."""
        async with self._db_slots, transaction(self.sessions) as session:
            yield session

    def register(self, connection: ConsultConnection) -> None:
        assert connection.member is not None
        self.local[connection.member.id] = connection

    def unregister(self, member_id: uuid.UUID) -> None:
        self.local.pop(member_id, None)

    async def deliver(self, member: Member, event: dict[str, Any], *, close: int | None = None) -> None:
        """Hands `event` to the member's connection, here or on its instance."""
        if member.instance == self.instance:
            self._hand_over(member.id, event, close)
            return
        await self.bus.publish(
            consult_instance(member.instance), ConsultRelay(to=str(member.id), event=event, close=close)
        )

    async def deliver_all(
        self, members: list[Member], event: dict[str, Any], *, close: int | None = None
    ) -> None:
        """The same event to several members, one bus message per remote member."""
        for member in members:
            await self.deliver(member, event, close=close)

    def _hand_over(self, member_id: uuid.UUID, event: dict[str, Any], close: int | None) -> None:
        connection = self.local.get(member_id)
        if connection is None or connection.member is None:
            return  # left or replaced meanwhile: nothing to deliver to
        if event.get("type") == "admitted":
            connection.member = connection.member.admitted()
        connection.send(event)
        if close is not None:
            connection.cancel_timer()
            connection.close(close)

    async def _listen(self) -> None:
        attempt = 0
        while True:
            try:
                channels = [consult_instance(self.instance), IDENTITY_SESSIONS]
                async with self.bus.subscribe(channels=channels) as subscription:
                    self.listening.set()
                    attempt = 0
                    async for message in subscription:
                        self._receive(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consult relay subscription failed; subscribing again")
            self.listening.clear()
            await asyncio.sleep(reconnect_delay_s(attempt, base_s=0.5, cap_s=10.0))
            attempt += 1

    def _receive(self, message: BusMessage) -> None:
        if message.kind != "message":
            # Missed relays cannot be replayed; peers recover by an ICE restart or by joining again.
            log.warning("consult relay may have missed messages on %s", message.channel)
            return
        if message.channel == IDENTITY_SESSIONS:
            ended = sessions_ended(message.payload)
            if ended is not None:
                self._end_sessions(ended)
            return
        try:
            relay = decode_payload(ConsultRelay, message.payload)
            self._hand_over(uuid.UUID(relay.to), relay.event, relay.close)
        except (KeyError, ValueError, TypeError):
            log.error("malformed consult relay message dropped: %r", message.payload)

    def _end_sessions(self, ended: SessionsEnded) -> None:
        # The user was deactivated, changed or signed out: their token is refused, so is their socket.
        for connection in list(self.signed_in):
            principal = connection.caller.principal
            if principal is not None and ends_session_of(principal, ended):
                connection.cancel_timer()
                connection.close(CLOSE_NOT_AUTHENTICATED, SESSION_ENDED_REASON)
