"""The per-process hub: one bus subscription feeding a registry of connections by subscription key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import Bus, BusMessage
from core.bus.backoff import reconnect_delay_s
from core.identity.principal import Principal
from core.identity.revocation import TokenRevocations
from core.settings import Settings
from realtime.hub.connection import Connection, ConnectionTuning, Transport
from realtime.hub.keys import BUS_PATTERNS, SubscriptionKey, event_type_of, keys_for_channel
from realtime.hub.messages import CLOSE_GOING_AWAY
from realtime.hub.snapshots import authorised_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubTuning(ConnectionTuning):
    # How long a new socket may take to send its `auth` message.
    auth_timeout_s: float = 5.0


class Hub:
    """Owned by the app's lifespan: `start` subscribes to the bus, `stop` closes every connection."""

    def __init__(
        self,
        *,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        revocations: TokenRevocations,
        tuning: HubTuning | None = None,
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.settings = settings
        self.revocations = revocations
        self.tuning = tuning or HubTuning()
        self._by_key: defaultdict[SubscriptionKey, set[Connection]] = defaultdict(set)
        self._connections: set[Connection] = set()
        self._pump: asyncio.Task[None] | None = None
        # Set while the bus subscription is active; tests and readiness checks await it.
        self.listening = asyncio.Event()

    async def start(self) -> None:
        """Starts the bus subscription task."""
        self._pump = asyncio.create_task(self._run_pump(), name="hub-bus-pump")

    async def stop(self) -> None:
        """Stops receiving and asks every connection to close."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for connection in list(self._connections):
            connection.drop(CLOSE_GOING_AWAY, "server shutting down")

    def connect(
        self, transport: Transport, principal: Principal, *, expires_at: datetime | None = None
    ) -> Connection:
        """Registers a signed-in client whose access token expires at `expires_at`."""

        async def load(key: SubscriptionKey, reason: str) -> dict[str, Any]:
            return await authorised_snapshot(
                # The connection's principal now: a renewed sign-in carries the new token's id.
                sessions=self.sessions,
                principal=connection.principal,
                key=key,
                reason=reason,
            )

        connection = Connection(
            transport=transport, principal=principal, tuning=self.tuning, load=load, expires_at=expires_at
        )
        self._connections.add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Forgets a client and all its subscriptions."""
        for key in list(connection.feeds):
            self.unsubscribe(connection, key)
        self._connections.discard(connection)

    def subscribe(self, connection: Connection, key: SubscriptionKey) -> None:
        """Routes `key`'s messages to the connection from now on (before its snapshot is read)."""
        connection.open_feed(key)
        self._by_key[key].add(connection)

    def unsubscribe(self, connection: Connection, key: SubscriptionKey) -> None:
        """Stops routing `key` to the connection."""
        connection.close_feed(key)
        watchers = self._by_key.get(key)
        if watchers is not None:
            watchers.discard(connection)
            if not watchers:
                del self._by_key[key]

    def connections(self) -> list[Connection]:
        """The connections open now."""
        return list(self._connections)

    def dispatch(self, message: BusMessage) -> None:
        """Hands one bus message to every connection watching a key it feeds."""
        if message.kind == "resync":
            # Messages may have been lost while the bus was reconnecting: everyone starts afresh.
            for connection in list(self._connections):
                if connection.feeds:
                    connection.resync("bus-reconnected")
            return
        event_type = event_type_of(message.channel)
        for key in keys_for_channel(message.channel):
            for connection in list(self._by_key.get(key, ())):
                if event_type is not None:
                    connection.forward_event(key, event_type, message.data)
                else:
                    connection.add_readings(key, message.data)

    async def _run_pump(self) -> None:
        attempt = 0
        while True:
            try:
                async with self.bus.subscribe(patterns=BUS_PATTERNS) as subscription:
                    self.listening.set()
                    attempt = 0
                    async for message in subscription:
                        self.dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub bus subscription failed; subscribing again")
            self.listening.clear()
            # The subscription ended (bus error); subscribe again and resync everyone, who missed messages.
            for connection in list(self._connections):
                if connection.feeds:
                    connection.resync("bus-reconnected")
            await asyncio.sleep(reconnect_delay_s(attempt, base_s=0.5, cap_s=10.0))
            attempt += 1
