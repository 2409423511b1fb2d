"""Releasing simulated messages in real time, for live publishing (the embedded mode, the edge
gateway, the demo); unpaced, `simulate` runs as fast as the CPU allows (the benchmark).

A message is due when the wall clock has advanced as far from the first message as its
readings' time has (divided by `speed`). Deadlines are anchored to the first message, so a slow
consumer catches up instead of drifting; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator

from devices.protocol import VitalsMessage

Stream = Iterable[tuple[str, VitalsMessage]]


class _Schedule:
    """Maps each message's reading time to a deadline on a monotonic clock."""

    def __init__(self, speed: float, now: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._anchor_clock = now
        self._anchor_reading: float | None = None

    def deadline(self, message: VitalsMessage) -> float:
        reading_s = message.readings[0].time.timestamp()
        if self._anchor_reading is None:
            self._anchor_reading = reading_s
        return self._anchor_clock + (reading_s - self._anchor_reading) / self._speed


async def paced(stream: Stream, *, speed: float = 1.0) -> AsyncIterator[tuple[str, VitalsMessage]]:
    """Yields the stream's messages as their time comes (`speed` times faster than real time)."""
    loop = asyncio.get_running_loop()
    schedule = _Schedule(speed, loop.time())
    for device_id, message in stream:
        delay = schedule.deadline(message) - loop.time()
        # Waiting for the next reading's time is the point of pacing, not a poll.
        await asyncio.sleep(max(delay, 0.0))
        yield device_id, message


def paced_blocking(
    stream: Stream, *, speed: float = 1.0, stop: threading.Event | None = None
) -> Iterator[tuple[str, VitalsMessage]]:
    """The same for a thread: waits on `stop` between messages and ends as soon as it is set."""
    stop = stop or threading.Event()
    schedule = _Schedule(speed, time.monotonic())
    for device_id, message in stream:
        delay = schedule.deadline(message) - time.monotonic()
        if (delay > 0 and stop.wait(delay)) or stop.is_set():
            return
        yield device_id, message
