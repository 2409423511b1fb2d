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
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

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

    def __init__(self, bus: Bus, metrics: IngestMetrics, *, max_pending_readings: int = 200_000) -> None:
        self._bus = bus
        self._metrics = metrics
        self._max_pending = max_pending_readings
        # (device, attribution) -> readings waiting; the key changes when the device is rebound.
        self._readings: dict[tuple[str, Attribution], list[Reading]] = {}
        self._pending_readings = 0
        self._others: list[tuple[str, Message]] = []
        self._wakeup = asyncio.Event()

    def submit_readings(
        self, device_id: str, attribution: Attribution, readings: Iterable[DecodedReading]
    ) -> None:
        """Queues one device's committed readings."""
        waiting = self._readings.setdefault((device_id, attribution), [])
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
            outgoing = self._take()
            for start in range(0, len(outgoing), PUBLISH_BATCH):
                chunk = outgoing[start : start + PUBLISH_BATCH]
                try:
                    # One pipelined round trip per chunk; each message is serialised once for all
                    # the channels it goes to.
                    await self._bus.publish_many(chunk)
                except Exception as error:  # the bus is best-effort here: count, log, go on
                    self._metrics.bus_dropped.inc(len(chunk))
                    log.warning("bus publish failed for %d messages: %s", len(chunk), error)
                else:
                    self._metrics.bus_published.inc(len(chunk))
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Cancelled during a publish whose client swallowed the CancelledError (redis-py's
                # pipeline can): stop now rather than wait on the wakeup forever at shutdown.
                raise asyncio.CancelledError
            # Pacing the rounds (what arrives meanwhile is merged into the next one), not polling.
            elapsed_s = asyncio.get_running_loop().time() - round_started
            await asyncio.sleep(max(0.0, MIN_ROUND_INTERVAL_S - elapsed_s))

    def _take(self) -> list[tuple[str, Message]]:
        outgoing, self._others = self._others, []
        by_ward: dict[uuid.UUID, list[DeviceReadings]] = {}
        for (device_id, who), readings in self._readings.items():
            message = DeviceReadings(
                device_id, _text(who.patient_id), _text(who.bed_id), _text(who.ward_id), readings
            )
            outgoing.append((vitals_device(device_id), message))
            if who.patient_id is not None:
                outgoing.append((vitals_patient(who.patient_id), message))
            if who.ward_id is not None:
                by_ward.setdefault(who.ward_id, []).append(message)
        for ward_id, messages in by_ward.items():
            outgoing.append((vitals_ward(ward_id), WardReadings(str(ward_id), messages)))
        self._readings = {}
        self._pending_readings = 0
        return outgoing


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
