"""Passing committed data on to the bus, off the ingest path.

The worker hands each committed batch to `LiveFanout` and goes on with the next one; a task of its
own publishes. While it is busy, new readings for a device already waiting are merged into that
device's pending message, so under load it sends fewer, larger messages instead of falling behind.
The bus is fire-and-forget (see `core.bus`): when it is down, or the backlog passes
`max_pending_readings`, the backlog is dropped and counted; dashboards resync from the database.
Statuses and events are never merged: each is published as it came.

A round publishes each device's readings on `vitals.device.<id>` and, when the device is bound, on
`vitals.patient.<id>`, and one message per ward on `vitals.ward.<id>` holding every device of the
ward that had readings (`{"ward_id", "devices": [device messages]}`): a ward dashboard's hub then
handles one message per ward and round, not one per bed. Names and payloads are the bus contract's
(`core.bus`: `Reading`, `DeviceReadings`, `WardReadings`), encoded by msgspec.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from opentelemetry.trace import Span, SpanContext, SpanKind, Tracer

from core.bus import (
    Bus,
    DeviceEvent,
    DeviceReadings,
    DeviceStatus,
    Message,
    Reading,
    WardReadings,
    devices_event,
    devices_status,
    vitals_device,
    vitals_patient,
    vitals_ward,
)
from core.tracing import parent_and_links, traceparent_of
from devices.ingest.attribution import Attribution
from devices.ingest.decode import DecodedReading
from devices.ingest.metrics import IngestMetrics

log = logging.getLogger(__name__)

# Messages per pipelined bus round trip: large enough to amortise it, small enough to keep
# Redis's output buffers to subscribers modest.
PUBLISH_BATCH = 500
# At most one round of publishing per interval. Rounds follow the worker's commits (every
# `flush_interval_s` at most), so this only merges commits that come in quick succession; longer
# pauses would show on every dashboard as latency.
MIN_ROUND_INTERVAL_S = 0.05


class LiveFanout:
    """Publishes readings, statuses and events on the bus from its own task (`run`)."""

    def __init__(
        self,
        bus: Bus,
        metrics: IngestMetrics,
        *,
        max_pending_readings: int = 200_000,
        tracer: Tracer | None = None,
    ) -> None:
        self._bus = bus
        self._metrics = metrics
        self._max_pending = max_pending_readings
        self._tracer = tracer
        # (device, attribution) -> readings waiting; the key changes when the device is rebound.
        self._readings: dict[tuple[str, Attribution], list[Reading]] = {}
        # When each waiting device's first readings were committed (monotonic), for `commit_to_bus`.
        self._committed_at: dict[tuple[str, Attribution], float] = {}
        # The `ingest.commit` span of each waiting device's latest traced message (tracing on only).
        self._traces: dict[tuple[str, Attribution], SpanContext] = {}
        self._pending_readings = 0
        self._others: list[tuple[str, Message]] = []
        self._wakeup = asyncio.Event()

    def submit_readings(
        self,
        device_id: str,
        attribution: Attribution,
        readings: Iterable[DecodedReading],
        *,
        trace: SpanContext | None = None,
    ) -> None:
        """Queues one device's committed readings (`trace`: its message's commit span, if sampled)."""
        key = (device_id, attribution)
        waiting = self._readings.get(key)
        if waiting is None:
            waiting = self._readings[key] = []
            self._committed_at[key] = time.monotonic()
        if trace is not None:
            self._traces[key] = trace
        before = len(waiting)
        append = waiting.append
        # Times as strings now, formatted as they always were (`isoformat`, not msgspec's own): a
        # message's readings come instant by instant, so each instant is formatted about once.
        last: datetime | None = None
        stamp = ""
        for metric, value, unit, at in readings:
            if at is not last:
                last, stamp = at, at.isoformat()
            append(Reading(metric, value, unit, stamp))
        self._pending_readings += len(waiting) - before
        if self._pending_readings > self._max_pending:
            self._metrics.bus_dropped.inc(len(self._readings))
            log.warning("bus far behind; dropping %d pending readings", self._pending_readings)
            self._readings.clear()
            self._committed_at.clear()
            self._traces.clear()
            self._pending_readings = 0
        self._wakeup.set()

    def submit(self, channel: str, message: Message) -> None:
        """Queues a message, published as it is."""
        self._others.append((channel, message))
        self._wakeup.set()

    def submit_device_message(self, device_id: str, kind: str, body: dict[str, Any]) -> None:
        """Queues a device's status (`kind` "status") or event (`kind` "events"), as classified."""
        if kind == "status":
            self.submit(devices_status(device_id), _status(body))
        else:
            self.submit(devices_event(device_id), _event(body))

    async def run(self) -> None:
        """Publishes whatever is pending, until cancelled."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            round_started = asyncio.get_running_loop().time()
            outgoing, committed_at, spans = self._take()
            published = True
            for start in range(0, len(outgoing), PUBLISH_BATCH):
                chunk = outgoing[start : start + PUBLISH_BATCH]
                try:
                    # One pipelined round trip per chunk; each message is serialised once for all
                    # the channels it goes to.
                    await self._bus.publish_many(chunk)
                except Exception as error:  # the bus is best-effort here: count, log, go on
                    self._metrics.bus_dropped.inc(len(chunk))
                    log.warning("bus publish failed for %d messages: %s", len(chunk), error)
                    published = False
                else:
                    self._metrics.bus_published.inc(len(chunk))
            self._account_round(committed_at, spans, published=published)
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Cancelled during a publish whose client swallowed the CancelledError (redis-py's
                # pipeline can): stop now rather than wait on the wakeup forever at shutdown.
                raise asyncio.CancelledError
            # Pacing the rounds (what arrives meanwhile is merged into the next one), not polling.
            elapsed_s = asyncio.get_running_loop().time() - round_started
            await asyncio.sleep(max(0.0, MIN_ROUND_INTERVAL_S - elapsed_s))

    def _take(self) -> tuple[list[tuple[str, Message]], list[float], list[Span]]:
        outgoing, self._others = self._others, []
        by_ward: dict[uuid.UUID, list[DeviceReadings]] = {}
        ward_traces: dict[uuid.UUID, list[SpanContext]] = {}
        traces = self._traces
        for key, readings in self._readings.items():
            device_id, who = key
            message = DeviceReadings(
                device_id, _text(who.patient_id), _text(who.bed_id), _text(who.ward_id), readings
            )
            outgoing.append((vitals_device(device_id), message))
            if who.patient_id is not None:
                outgoing.append((vitals_patient(who.patient_id), message))
            if who.ward_id is not None:
                by_ward.setdefault(who.ward_id, []).append(message)
                if key in traces:
                    ward_traces.setdefault(who.ward_id, []).append(traces[key])
        sent_at = time.time()
        spans = []
        for ward_id, messages in by_ward.items():
            ward = WardReadings(str(ward_id), messages, sent_at=sent_at)
            if ward_id in ward_traces:
                span = self._publish_span(ward, ward_traces[ward_id])
                ward.traceparent = traceparent_of(span.get_span_context())
                spans.append(span)
            outgoing.append((vitals_ward(ward_id), ward))
        committed_at = list(self._committed_at.values())
        self._readings, self._committed_at, self._traces = {}, {}, {}
        self._pending_readings = 0
        return outgoing, committed_at, spans

    def _publish_span(self, ward: WardReadings, traces: list[SpanContext]) -> Span:
        """A `bus.publish` span for a ward's message, ended once the round is published."""
        assert self._tracer is not None
        parent, links = parent_and_links(traces)
        return self._tracer.start_span(
            "bus.publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            links=links,
            attributes={
                "messaging.system": "redis",
                "messaging.operation.type": "send",
                "messaging.destination.name": vitals_ward(ward.ward_id),
                "ownat.devices": len(ward.devices),
                "ownat.traces": len(traces),
            },
        )

    def _account_round(self, committed_at: list[float], spans: list[Span], *, published: bool) -> None:
        """The commit-to-bus hop of each device published this round, and the round's spans ended."""
        if published:
            now = time.monotonic()
            observe = self._metrics.commit_to_bus.observe
            for at in committed_at:
                observe(now - at)
        for span in spans:
            if not published:
                span.set_attribute("ownat.dropped", True)
            span.end()


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _status(body: dict[str, Any]) -> DeviceStatus:
    # The body is the protocol's StatusMessage as classified; its time is still a datetime.
    return DeviceStatus(
        device_id=body["device_id"],
        online=body["online"],
        time=body["time"].isoformat(),
        battery_pct=body["battery_pct"],
        sensor_off=body["sensor_off"],
        firmware=body["firmware"],
    )


def _event(body: dict[str, Any]) -> DeviceEvent:
    return DeviceEvent(
        device_id=body["device_id"],
        seq=body["seq"],
        time=body["time"].isoformat(),
        code=body["code"],
        severity=body["severity"],
        detail=body["detail"],
    )
