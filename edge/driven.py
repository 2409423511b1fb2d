"""An adapter fed by a device driver: the driver says what a device measured, this numbers and queues it.

The SDC consumer (`edge.sdc`) and the Bluetooth driver (`edge.ble`) both run a driver that reports
readings, events and statuses from callbacks, on the gateway's event loop or on a library's own
threads. `DriverAdapter` gives each message its device's next `seq` (continuing after the last one
queued before a restart, as the protocol asks), validates it with the wire format's own models,
and hands it to a `PushAdapter`, whose stream the gateway consumes.

What the wire format refuses (a physiologically impossible value, a time in the future) is not
sent as a reading: the driver gets the reason back, and reports it as a device event so that the
platform shows it (see `report_refused`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from devices.protocol import MAX_CLOCK_AHEAD, EventMessage, Reading, StatusMessage, VitalsMessage
from edge.adapters import DeviceMessage, PushAdapter

logger = logging.getLogger(__name__)

Driver = Callable[["DriverAdapter"], Awaitable[None]]
Severity = Literal["low", "medium", "high"]
# The protocol's limit on an event's detail.
MAX_DETAIL = 500


def _problems(error: ValidationError) -> str:
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors()[:3])


class DriverAdapter:
    """A device adapter whose messages come from `driver(self)`, run while the gateway consumes it.

    The driver calls `readings`, `event` and `status` from any thread; it is cancelled when the
    gateway stops. A driver that returns ends the stream.
    """

    def __init__(self, name: str, driver: Driver) -> None:
        self.name = name
        self._driver = driver
        self._push = PushAdapter(name)
        self._next: dict[str, int] = {}
        # One lock around numbering and handing over, so that seqs reach the queue in order.
        self._lock = threading.Lock()
        self.refused = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._push.bind(loop)

    async def messages(self, next_seq: Mapping[str, int]) -> AsyncIterator[DeviceMessage]:
        self._next = dict(next_seq)
        self._push.bind(asyncio.get_running_loop())
        task = asyncio.create_task(self._run_driver(), name=f"edge driver {self.name}")
        try:
            async for message in self._push.messages(next_seq):
                yield message
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run_driver(self) -> None:
        try:
            await self._driver(self)
        finally:
            self._push.close()

    def readings(self, device_id: str, values: Iterable[tuple[str, float, str]], at: datetime) -> list[str]:
        """Sends the valid ones of (metric, value, unit) measured at `at`; returns why others were refused."""
        readings: list[Reading] = []
        refused: list[str] = []
        if at > datetime.now(UTC) + MAX_CLOCK_AHEAD:
            return [f"time {at.isoformat()} is in the future: the device's clock is wrong"]
        for metric, value, unit in values:
            try:
                readings.append(Reading(metric=metric, value=value, unit=unit, time=at))
            except ValidationError as error:
                refused.append(f"{metric} {value:g} {unit}: {_problems(error)}")
        if readings:
            self._send(device_id, lambda seq: VitalsMessage(seq=seq, readings=readings))
        return refused

    def event(
        self,
        device_id: str,
        code: str,
        at: datetime,
        *,
        severity: Severity = "medium",
        detail: str | None = None,
    ) -> None:
        """Sends one of the device's own alarms or technical events."""
        text = detail if detail is None or len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"
        self._send(
            device_id, lambda seq: EventMessage(seq=seq, time=at, code=code, severity=severity, detail=text)
        )

    def status(self, device_id: str, *, online: bool, at: datetime, sensor_off: bool = False) -> None:
        """Sends the device's state (retained on the broker)."""
        self._send(
            device_id, lambda seq: StatusMessage(seq=seq, online=online, time=at, sensor_off=sensor_off)
        )

    def report_refused(self, device_id: str, code: str, reasons: Iterable[str], at: datetime) -> None:
        """Logs what could not be sent, and tells the platform as a low-severity device event."""
        reasons = list(reasons)
        if not reasons:
            return
        self.refused += len(reasons)
        logger.warning("%s: %s refused: %s", self.name, device_id, "; ".join(reasons))
        self.event(device_id, code, at, severity="low", detail="; ".join(reasons))

    def close(self) -> None:
        """Ends the stream after what was sent."""
        self._push.close()

    def _send(
        self, device_id: str, build: Callable[[int], VitalsMessage | EventMessage | StatusMessage]
    ) -> None:
        with self._lock:
            # A device never queued here starts from the time in milliseconds, so that its seqs stay
            # above any it sent before this gateway's queue was new (the protocol's advice).
            seq = self._next.get(device_id)
            if seq is None:
                seq = time.time_ns() // 1_000_000
            self._next[device_id] = seq + 1
            self._push.push(device_id, build(seq))
