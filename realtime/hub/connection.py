"""One client connection: bounded outbound queue of encoded frames, resync, heartbeat and token expiry.

Alarms have a lane of their own: an alarm frame is sent before any reading still waiting for a
slow client, so that under load alarms never queue behind readings. Only a snapshot or a resync
marker still waiting keeps its place ahead of an alarm (an alarm delta must follow the snapshot
it changes).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry.trace import SpanKind, Tracer

from core.bus import reconnect_delay_s
from core.errors import DomainError
from core.principal import Principal
from core.tracing import context_of
from realtime.hub.feeds import FrameOrigin, encode
from realtime.hub.keys import SubscriptionKey
from realtime.hub.messages import CLOSE_HEARTBEAT_TIMEOUT, CLOSE_TOO_SLOW, error_message
from realtime.hub.metrics import HubMetrics
from realtime.socket_signin import CLOSE_TOKEN_EXPIRED, EXPIRED_CLOSE_REASON, TokenDeadline
from realtime.socket_wire import Transport

log = logging.getLogger(__name__)

SnapshotLoader = Callable[[SubscriptionKey, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ConnectionTuning:
    # Frames waiting for one client's socket; beyond this the client is too slow (see `_overflow`).
    queue_size: int = 256
    # At most one `vitals` message per subscription this often (see `realtime.hub.feeds`).
    coalesce_interval_s: float = 0.1
    # Overflows tolerated (each answered with a resync) before the client is dropped.
    max_overflows: int = 3
    heartbeat_interval_s: float = 20.0
    heartbeat_timeout_s: float = 10.0


# A queued frame: its kind (a message `type`), its JSON text, encoded once for every watcher, and
# for a `vitals` or `alarm` frame where its content came from (the hop histograms, the frame's span).
Frame = tuple[str, str, FrameOrigin | None]
# Frames an alarm may not overtake: what the client rebuilds its state from.
ORDERED_KINDS = frozenset({"snapshot", "resync"})


@dataclass(slots=True)
class _Feed:
    # Frames are held back until the feed's snapshot has been queued, so that they always follow it.
    ready: bool = False
    held: list[Frame] = field(default_factory=list)


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
        metrics: HubMetrics | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.transport = transport
        self.metrics = metrics or HubMetrics()
        self._tracer = tracer
        self.principal = principal
        # When the access token the client signed in with expires; a fresh `auth` moves it on.
        self.deadline = TokenDeadline(expires_at)
        self.tuning = tuning
        self.load_snapshot = load
        self.feeds: dict[SubscriptionKey, _Feed] = {}
        self._outbox: asyncio.Queue[Frame] = asyncio.Queue(maxsize=tuning.queue_size)
        # The alarm lane, sent first; and the snapshots and resync markers in the outbox meanwhile.
        self._alarm_lane: collections.deque[Frame] = collections.deque()
        self._ordered_waiting = 0
        self._frames_waiting = asyncio.Event()
        self._resync_task: asyncio.Task[None] | None = None
        self._pong = asyncio.Event()
        self.overflows = 0
        self.overflowed = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    # Feeds -----------------------------------------------------------------------------------
    def open_feed(self, key: SubscriptionKey) -> None:
        """Starts collecting frames for `key`; they are sent once `feed_ready` has queued the snapshot."""
        self.feeds.setdefault(key, _Feed())

    def feed_ready(self, key: SubscriptionKey, snapshot: dict[str, Any]) -> None:
        """Queues the snapshot; the frames collected meanwhile follow it."""
        feed = self.feeds.get(key)
        if feed is not None and self.send(snapshot):
            feed.ready = True
            held, feed.held = feed.held, []
            for kind, text, origin in held:
                if not self._enqueue(kind, text, origin):
                    return

    def close_feed(self, key: SubscriptionKey) -> None:
        """Stops the feed and forgets its held frames."""
        self.feeds.pop(key, None)

    def deliver(self, key: SubscriptionKey, kind: str, text: str, origin: FrameOrigin | None = None) -> None:
        """A frame of `key`'s feed (vitals, alarm, notification), already encoded for every watcher."""
        feed = self.feeds.get(key)
        if feed is None:
            return
        if feed.ready:
            self._enqueue(kind, text, origin)
        elif len(feed.held) < self.tuning.queue_size:
            feed.held.append((kind, text, origin))
        else:  # a snapshot that takes this long is a client (or database) that cannot keep up
            self._overflow()

    @property
    def frames_waiting(self) -> tuple[int, int]:
        """(alarms, other frames) queued for the client's socket."""
        return len(self._alarm_lane), self._outbox.qsize()

    # Outbound queue ----------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> bool:
        """Queues a message of this connection's own (ready, snapshot, error, ping) without waiting."""
        return self._enqueue(message["type"], encode(message))

    def _enqueue(self, kind: str, text: str, origin: FrameOrigin | None = None) -> bool:
        # On a full queue the client is resynchronised, or dropped when it keeps falling behind.
        if self.closed.is_set():
            return False
        if kind == "alarm" and not self._ordered_waiting:
            if len(self._alarm_lane) >= self.tuning.queue_size:
                self._overflow()
                return False
            self._alarm_lane.append((kind, text, origin))
            self._frames_waiting.set()
            return True
        try:
            self._outbox.put_nowait((kind, text, origin))
        except asyncio.QueueFull:
            self._overflow()
            return False
        if kind in ORDERED_KINDS:
            self._ordered_waiting += 1
        self._frames_waiting.set()
        return True

    def _overflow(self) -> None:
        self.overflows += 1
        self.overflowed.set()
        if self.overflows > self.tuning.max_overflows:
            self.drop(CLOSE_TOO_SLOW, "too slow to keep up")
            return
        self.resync("slow-consumer")

    def resync(self, reason: str) -> None:
        """Discards queued deltas and snapshots and sends every feed a fresh snapshot; alarms are kept."""
        self.metrics.resyncs.labels(reason).inc()
        kept: list[Frame] = []
        while not self._outbox.empty():
            frame = self._outbox.get_nowait()
            if frame[0] == "alarm":
                kept.append(frame)
        self._ordered_waiting = 0
        for feed in self.feeds.values():
            # Alarms held for a feed are kept too; its readings are committed before they are
            # published, so the fresh snapshot has them.
            kept += [frame for frame in feed.held if frame[0] == "alarm"]
            feed.ready, feed.held = False, []
        self._outbox.put_nowait(("resync", encode({"type": "resync", "reason": reason}), None))
        self._ordered_waiting += 1
        self._frames_waiting.set()
        # Alarms are few and each matters: they go out again after the marker (the queue was just
        # emptied, so they fit unless the queue holds nothing but alarms, in which case the oldest go).
        room = self.tuning.queue_size - 1
        for frame in kept[-room:] if room > 0 else []:
            self._outbox.put_nowait(frame)
        if self._resync_task is not None:
            self._resync_task.cancel()
        self._resync_task = asyncio.create_task(self._reload(reason))

    async def _reload(self, reason: str) -> None:
        for key in list(self.feeds):
            attempt = 0
            while key in self.feeds and not self.closed.is_set():
                try:
                    snapshot = await self.load_snapshot(key, reason)
                except DomainError as error:
                    # Access can be lost meanwhile (a patient discharged from view, a ward closed).
                    self.close_feed(key)
                    self.send(error_message(error.code, str(error), **key.label()))
                    break
                except Exception:
                    # The database is busy or away: the feed stays paused and tries again.
                    log.exception("snapshot of %s %s failed; trying again", key.scope, key.id)
                    await asyncio.sleep(reconnect_delay_s(attempt, base_s=0.5, cap_s=10.0))
                    attempt += 1
                    continue
                self.feed_ready(key, snapshot)
                break

    def drop(self, code: int, reason: str) -> None:
        """Marks the connection for closing; `serve_connection` closes the socket."""
        if not self.closed.is_set():
            self.metrics.dropped(code)
            self.close_code, self.close_reason = code, reason
            log.info("closing websocket of %s: %s", self.principal.user_id, reason)
            self.closed.set()

    # Tasks ---------------------------------------------------------------------------------------
    async def run_writer(self) -> None:
        """Sends queued frames at the client's pace: the alarm lane first, then the rest in order."""
        loop = asyncio.get_running_loop()
        observe_vitals = self.metrics.receive_to_send.observe
        observe_alarm = self.metrics.alarm_receive_to_send.observe
        while True:
            while not self._alarm_lane and self._outbox.empty():
                self._frames_waiting.clear()
                await self._frames_waiting.wait()
            if self._alarm_lane:
                kind, text, origin = self._alarm_lane.popleft()
            else:
                kind, text, origin = self._outbox.get_nowait()
                if kind in ORDERED_KINDS:
                    self._ordered_waiting -= 1
            if origin is None:
                await self.transport.send_text(text)
                continue
            if origin.trace is not None and self._tracer is not None:
                await self._send_traced(text, origin)
            else:
                await self.transport.send_text(text)
            (observe_alarm if kind == "alarm" else observe_vitals)(loop.time() - origin.received_at)

    async def _send_traced(self, text: str, origin: FrameOrigin) -> None:
        """Sends a frame inside a `ws.send` span, the child of the frame's `hub.frame`."""
        assert self._tracer is not None and origin.trace is not None
        span = self._tracer.start_span(
            "ws.send",
            context=context_of(origin.trace),
            kind=SpanKind.PRODUCER,
            attributes={"ownat.frame.bytes": len(text), "ownat.queued": self._outbox.qsize()},
        )
        try:
            await self.transport.send_text(text)
        finally:
            span.end()

    async def run_heartbeat(self) -> None:
        """Pings every `heartbeat_interval_s`; a client that does not pong in time is dropped."""
        seq = 0
        while True:
            await asyncio.sleep(self.tuning.heartbeat_interval_s)
            seq += 1
            self._pong.clear()
            self.send({"type": "ping", "seq": seq})
            try:
                async with asyncio.timeout(self.tuning.heartbeat_timeout_s):
                    await self._pong.wait()
            except TimeoutError:
                self.drop(CLOSE_HEARTBEAT_TIMEOUT, "no pong")
                return

    async def run_expiry(self) -> None:
        """Closes the connection when its access token expires, unless `renew` came first."""
        await self.deadline.passed()
        self.drop(CLOSE_TOKEN_EXPIRED, EXPIRED_CLOSE_REASON)

    def renew(self, principal: Principal, expires_at: datetime) -> None:
        """The client signed in again on the open socket (same user): its new token's expiry applies."""
        self.principal = principal
        self.deadline.move(expires_at)

    def pong(self) -> None:
        """Records the client's answer to a ping."""
        self._pong.set()

    async def stop(self) -> None:
        """Cancels the resync in progress, if any."""
        if self._resync_task is not None:
            self._resync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resync_task
