"""Live feeds: one per subscription key in a process, shared by every connection watching it.

A key's readings are merged into one pending `vitals` message. The first after a quiet spell goes out
at once; after that at most one goes out every `coalesce_interval_s`, holding whatever arrived in
between (merged, never dropped). Each message, and each alarm or notification, is encoded to JSON
once and the same text is handed to every watcher: with hundreds of nurses on a ward the hub's
work per reading does not grow with the number of screens, only the sockets' sends do.

Readings arrive as the bus contract's structs (`core.bus.DeviceReadings`) and leave, encoded by
msgspec, as `LiveReading`s: the bus's `Reading` with its device's ids. Alarms, NEWS2 scores and
notifications are not read here: their bus JSON is checked and set into the frame as it came.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
from opentelemetry.trace import SpanContext, SpanKind, Tracer

from core.bus import DeviceReadings
from core.tracing import parent_and_links
from realtime.hub.keys import SubscriptionKey


@dataclass(frozen=True, slots=True)
class FrameOrigin:
    """Where a frame's content came from: when the hub received it (for a `vitals` frame the oldest
    of its readings; loop time, for the receive-to-send histograms) and, for a `vitals` frame while
    tracing is on, the frame's `hub.frame` span."""

    received_at: float
    trace: SpanContext | None = None


class Watcher(Protocol):
    """What a feed needs of a connection (`realtime.hub.connection.Connection` is one)."""

    def deliver(
        self, key: SubscriptionKey, kind: str, text: str, origin: FrameOrigin | None = None
    ) -> None: ...


def encode(message: dict[str, Any]) -> str:
    """Compact JSON, as every frame the hub sends."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class LiveReading(msgspec.Struct, gc=False):
    """A reading in a `vitals` frame: the bus's `Reading`, with the ids of the device that took it."""

    device_id: str
    patient_id: str | None
    bed_id: str | None
    metric: str
    value: float
    unit: str
    time: str


# Stateless: one of each for the process.
_FRAME_ENCODER = msgspec.json.Encoder()
_ANY_OBJECT = msgspec.json.Decoder(dict[str, Any])


@dataclass(slots=True, eq=False)
class _Feed:
    key: SubscriptionKey
    watchers: set[Watcher] = field(default_factory=set)
    pending: list[LiveReading] = field(default_factory=list)
    # Loop time of the last `vitals` message, and the timer of the next one when one is due.
    last_sent: float = float("-inf")
    timer: asyncio.TimerHandle | None = None
    # When the oldest pending reading arrived (loop time), and the `hub.receive` spans of sampled traces.
    first_received: float | None = None
    traces: list[SpanContext] = field(default_factory=list)


class LiveFeeds:
    """The feeds of one hub: who watches which key, and the readings waiting for each key."""

    def __init__(self, *, coalesce_interval_s: float, tracer: Tracer | None = None) -> None:
        self.coalesce_interval_s = coalesce_interval_s
        self._tracer = tracer
        self._feeds: dict[SubscriptionKey, _Feed] = {}

    def watch(self, key: SubscriptionKey, watcher: Watcher) -> bool:
        """Adds a watcher; True when it is the key's first (the caller then subscribes on the bus)."""
        feed = self._feeds.get(key)
        first = feed is None
        if feed is None:
            feed = self._feeds[key] = _Feed(key)
        feed.watchers.add(watcher)
        return first

    def unwatch(self, key: SubscriptionKey, watcher: Watcher) -> bool:
        """Removes a watcher; True when it was the key's last (the feed and its pending readings go)."""
        feed = self._feeds.get(key)
        if feed is None:
            return False
        feed.watchers.discard(watcher)
        if feed.watchers:
            return False
        if feed.timer is not None:
            feed.timer.cancel()
        del self._feeds[key]
        return True

    def watched(self) -> list[SubscriptionKey]:
        """The keys someone watches now."""
        return list(self._feeds)

    def add_devices(
        self,
        key: SubscriptionKey,
        devices: Iterable[DeviceReadings],
        *,
        received_at: float | None = None,
        trace: SpanContext | None = None,
    ) -> None:
        """Merges device messages (the ingest worker's) into the key's next `vitals` message.

        `received_at` (loop time) is when the bus message arrived, `trace` its `hub.receive` span.
        """
        feed = self._feeds.get(key)
        if feed is None:
            return
        if received_at is not None and feed.first_received is None:
            feed.first_received = received_at
        if trace is not None:
            feed.traces.append(trace)
        append = feed.pending.append
        for device in devices:
            device_id, patient_id, bed_id = device.device_id, device.patient_id, device.bed_id
            for r in device.readings:
                append(LiveReading(device_id, patient_id, bed_id, r.metric, r.value, r.unit, r.time))
        if feed.pending and feed.timer is None:
            loop = asyncio.get_running_loop()
            due_in_s = feed.last_sent + self.coalesce_interval_s - loop.time()
            # At once after a quiet spell (on the next loop turn, so that what came with this message
            # joins it); otherwise when the interval since the last message has passed.
            feed.timer = loop.call_later(max(0.0, due_in_s), self._send_vitals, feed)

    def forward_event(
        self, key: SubscriptionKey, event_type: str, payload: str | bytes, *, received_at: float | None = None
    ) -> None:
        """Alarms, NEWS2 scores and notifications are not merged: each goes to every watcher as it came.

        The frame is `{"type": event_type, "scope", "id", event_type: <the bus message>}`; the bus
        message's JSON is set in as it is, once it parses as an object (ValueError otherwise).
        `received_at` (loop time), given for alarms, is when the hub received it.
        """
        feed = self._feeds.get(key)
        if feed is None:
            return
        _ANY_OBJECT.decode(payload)
        body = payload if isinstance(payload, str) else payload.decode()
        text = f'{encode({"type": event_type, **key.label()})[:-1]},"{event_type}":{body}}}'
        origin = None if received_at is None else FrameOrigin(received_at)
        for watcher in list(feed.watchers):
            watcher.deliver(key, event_type, text, origin)

    def close(self) -> None:
        """Cancels every timer; pending readings are forgotten."""
        for feed in self._feeds.values():
            if feed.timer is not None:
                feed.timer.cancel()
        self._feeds.clear()

    def _send_vitals(self, feed: _Feed) -> None:
        feed.timer = None
        if self._feeds.get(feed.key) is not feed or not feed.pending:
            return
        readings, feed.pending = feed.pending, []
        feed.last_sent = asyncio.get_running_loop().time()
        frame = {"type": "vitals", **feed.key.label(), "readings": readings}
        text = _FRAME_ENCODER.encode(frame).decode()
        origin, span = None, None
        if feed.first_received is not None:
            if feed.traces and self._tracer is not None:
                parent, links = parent_and_links(feed.traces)
                span = self._tracer.start_span(
                    "hub.frame",
                    context=parent,
                    kind=SpanKind.PRODUCER,
                    links=links,
                    attributes={
                        "ownat.scope": feed.key.scope,
                        "ownat.readings": len(readings),
                        "ownat.watchers": len(feed.watchers),
                        "ownat.traces": len(feed.traces),
                    },
                )
            origin = FrameOrigin(feed.first_received, span.get_span_context() if span else None)
            feed.first_received, feed.traces = None, []
        for watcher in list(feed.watchers):
            watcher.deliver(feed.key, "vitals", text, origin)
        if span is not None:
            span.end()
