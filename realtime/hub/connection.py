"""One client connection: bounded outbound queue, per-subscription coalescing, resync and heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.db import utc_now
from core.errors import DomainError
from core.identity.principal import Principal
from realtime.hub.keys import SubscriptionKey
from realtime.hub.messages import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_TOO_SLOW,
    error_message,
)

log = logging.getLogger(__name__)

SnapshotLoader = Callable[[SubscriptionKey, str], Awaitable[dict[str, Any]]]


class Transport(Protocol):
    """What the hub needs of a WebSocket; `api.ws` adapts Starlette's."""

    async def send_text(self, text: str) -> None: ...

    async def receive_text(self) -> str | None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


@dataclass(frozen=True, slots=True)
class ConnectionTuning:
    queue_size: int = 256
    coalesce_interval_s: float = 0.2
    # Overflows tolerated (each answered with a resync) before the client is dropped.
    max_overflows: int = 3
    heartbeat_interval_s: float = 20.0
    heartbeat_timeout_s: float = 10.0


@dataclass(slots=True)
class _Feed:
    # Deltas are held back until the feed's snapshot has been queued, so they always follow it.
    ready: bool = False
    pending: list[dict[str, Any]] = field(default_factory=list)
    # Alarms and notifications that came while the snapshot was being read: sent right after it.
    held_events: list[dict[str, Any]] = field(default_factory=list)


class Connection:
    """A signed-in client: what it watches, what waits to be sent to it, and whether it keeps up."""

    def __init__(
        self,
        *,
        transport: Transport,
        principal: Principal,
        tuning: ConnectionTuning,
        load: SnapshotLoader,
        expires_at: datetime | None = None,
    ) -> None:
        self.transport = transport
        self.principal = principal
        # When the access token the client signed in with expires; a fresh `auth` moves it on.
        self.expires_at = expires_at
        self._renewed = asyncio.Event()
        self.tuning = tuning
        self.load_snapshot = load
        self.feeds: dict[SubscriptionKey, _Feed] = {}
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=tuning.queue_size)
        self._resync_task: asyncio.Task[None] | None = None
        self._pong = asyncio.Event()
        self.overflows = 0
        self.overflowed = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    # Feeds -----------------------------------------------------------------------------------
    def open_feed(self, key: SubscriptionKey) -> None:
        """Starts collecting deltas for `key`; they are sent once `feed_ready` has queued the snapshot."""
        self.feeds.setdefault(key, _Feed())

    def feed_ready(self, key: SubscriptionKey, snapshot: dict[str, Any]) -> None:
        """Queues the snapshot; the deltas collected meanwhile follow it."""
        feed = self.feeds.get(key)
        if feed is not None and self.send(snapshot):
            feed.ready = True
            held, feed.held_events = feed.held_events, []
            for event in held:
                self.send(event)

    def close_feed(self, key: SubscriptionKey) -> None:
        """Stops the feed and forgets its pending deltas."""
        self.feeds.pop(key, None)

    def add_readings(self, key: SubscriptionKey, message: dict[str, Any]) -> None:
        """Merges one bus message's readings into the feed's pending delta."""
        feed = self.feeds.get(key)
        if feed is None:
            return
        context = {name: message.get(name) for name in ("device_id", "patient_id", "bed_id")}
        feed.pending.extend({**context, **reading} for reading in message.get("readings", []))

    def forward_event(self, key: SubscriptionKey, event_type: str, payload: dict[str, Any]) -> None:
        """Alarms and notifications are not coalesced: each goes out as it came, once the snapshot is out."""
        feed = self.feeds.get(key)
        if feed is None:
            return
        message = {"type": event_type, **key.label(), event_type: payload}
        if feed.ready:
            self.send(message)
        else:
            feed.held_events.append(message)

    def flush(self) -> None:
        """Queues one `vitals` message per ready feed holding deltas."""
        for key, feed in list(self.feeds.items()):
            if feed.ready and feed.pending:
                readings, feed.pending = feed.pending, []
                if not self.send({"type": "vitals", **key.label(), "readings": readings}):
                    return

    # Outbound queue ----------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> bool:
        """Queues a message without waiting; on a full queue resynchronises or drops the client."""
        if self.closed.is_set():
            return False
        try:
            self._outbox.put_nowait(message)
            return True
        except asyncio.QueueFull:
            self._overflow()
            return False

    def _overflow(self) -> None:
        self.overflows += 1
        self.overflowed.set()
        if self.overflows > self.tuning.max_overflows:
            self.drop(CLOSE_TOO_SLOW, "too slow to keep up")
            return
        self.resync("slow-consumer")

    def resync(self, reason: str) -> None:
        """Discards queued deltas and snapshots and sends every feed a fresh snapshot; alarms are kept."""
        kept: list[dict[str, Any]] = []
        while not self._outbox.empty():
            message = self._outbox.get_nowait()
            if message["type"] == "alarm":
                kept.append(message)
        for feed in self.feeds.values():
            # The readings held back are committed before they are published, so the snapshot has them.
            feed.ready, feed.pending = False, []
        self._outbox.put_nowait({"type": "resync", "reason": reason})
        # Alarms are few and each matters: they go out again after the marker (the queue was just
        # emptied, so they fit unless the queue holds nothing but alarms, in which case the oldest go).
        room = self.tuning.queue_size - 1
        for message in kept[-room:] if room > 0 else []:
            self._outbox.put_nowait(message)
        if self._resync_task is not None:
            self._resync_task.cancel()
        self._resync_task = asyncio.create_task(self._reload(reason))

    async def _reload(self, reason: str) -> None:
        for key in list(self.feeds):
            try:
                snapshot = await self.load_snapshot(key, reason)
            except DomainError as error:
                # Access can be lost meanwhile (a patient discharged from view, a ward closed).
                self.close_feed(key)
                self.send(error_message(error.code, str(error), **key.label()))
                continue
            self.feed_ready(key, snapshot)

    def drop(self, code: int, reason: str) -> None:
        """Marks the connection for closing; `serve_connection` closes the socket."""
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            log.info("closing websocket of %s: %s", self.principal.user_id, reason)
            self.closed.set()

    # Tasks ---------------------------------------------------------------------------------------
    async def run_writer(self) -> None:
        """Sends queued messages in order, at the client's pace."""
        while True:
            message = await self._outbox.get()
            await self.transport.send_text(json.dumps(message, separators=(",", ":")))

    async def run_flusher(self) -> None:
        """Flushes coalesced deltas every `coalesce_interval_s`."""
        while True:
            # Pacing, not polling: whatever arrives meanwhile is merged into the next message.
            await asyncio.sleep(self.tuning.coalesce_interval_s)
            self.flush()

    async def run_heartbeat(self) -> None:
        """Pings every `heartbeat_interval_s`; a client that does not pong in time is dropped."""
        seq = 0
        while True:
            await asyncio.sleep(self.tuning.heartbeat_interval_s)
            seq += 1
            self._pong.clear()
            self.send({"type": "ping", "seq": seq})
            try:
                await asyncio.wait_for(self._pong.wait(), self.tuning.heartbeat_timeout_s)
            except TimeoutError:
                self.drop(CLOSE_HEARTBEAT_TIMEOUT, "no pong")
                return

    async def run_expiry(self) -> None:
        """Closes the connection when its access token expires, unless `renew` came first."""
        while True:
            self._renewed.clear()
            if self.expires_at is None:  # a connection without a deadline (until a renewal sets one)
                await self._renewed.wait()
                continue
            remaining_s = (self.expires_at - utc_now()).total_seconds()
            if remaining_s <= 0:
                self.drop(CLOSE_TOKEN_EXPIRED, "access token expired")
                return
            # Waiting for the deadline or a renewal, whichever comes first.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._renewed.wait(), remaining_s)

    def renew(self, principal: Principal, expires_at: datetime) -> None:
        """The client signed in again on the open socket (same user): its new token's expiry applies."""
        self.principal, self.expires_at = principal, expires_at
        self._renewed.set()

    def pong(self) -> None:
        """Records the client's answer to a ping."""
        self._pong.set()

    async def stop(self) -> None:
        """Cancels the resync in progress, if any."""
        if self._resync_task is not None:
            self._resync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resync_task
