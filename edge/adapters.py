"""Device adapters: where the edge gateway's messages come from.

An adapter is an object with a `name` and a `messages(next_seq)` async iterator of
`DeviceMessage`s; the gateway consumes each adapter in a task of its own and queues what it
yields, in order. `next_seq` holds, per device, the seq after the last one queued before a
restart, so an adapter that numbers messages itself continues where it stopped.

Two adapters are built in:
- `SimulatorAdapter`: simulated patients (`devices.simulator`), paced in real time;
- `PushAdapter`: for drivers that deliver readings through a callback on any thread
  (`push()`), e.g. a Bluetooth library's notification handler.

How a real device plugs in. A serial device (RS-232 monitor, USB thermometer) gets an adapter
that opens the port in a thread (pyserial) or with an asyncio serial transport, parses the
device's own protocol into `Reading`s (LOINC code or alias, value, unit, time from the device
clock or the gateway's), batches them per device into `VitalsMessage(seq=...)` and yields them;
it reconnects to the port itself when the cable is pulled and emits a `StatusMessage` with
`sensor_off` or `online=False`. A Bluetooth LE device (the standard GATT Health Thermometer,
Blood Pressure, Pulse Oximeter and Weight Scale services) gets a driver (e.g. bleak) whose
notification callback parses the characteristic and calls `PushAdapter.push`. Either way only
the adapter knows the device; queueing, ordering, retries and TLS stay in the gateway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from devices.protocol import EventMessage, StatusMessage, TopicKind, VitalsMessage, encode, topic_for
from devices.simulator import ArtefactRates, SimulatedDevice, paced, simulate
from edge.queue import OutgoingMessage


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """One message from a device, ready to queue."""

    device_id: str
    message: VitalsMessage | EventMessage | StatusMessage

    @property
    def kind(self) -> TopicKind:
        if isinstance(self.message, VitalsMessage):
            return "vitals"
        return "events" if isinstance(self.message, EventMessage) else "status"

    def outgoing(self) -> OutgoingMessage:
        """The queue row: topic, JSON payload, seq; status messages are retained, as the protocol says."""
        message = self.message
        return OutgoingMessage(
            device_id=self.device_id,
            topic=topic_for(self.device_id, self.kind),
            payload=encode(message),
            seq=message.seq,
            retain=isinstance(message, StatusMessage),
        )


class DeviceAdapter(Protocol):
    """A source of device messages (see the module docstring)."""

    name: str

    def messages(self, next_seq: Mapping[str, int]) -> AsyncIterator[DeviceMessage]: ...


class SimulatorAdapter:
    """Simulated devices from `devices.simulator`, released in real time (or `speed` times faster)."""

    def __init__(
        self,
        devices: Sequence[SimulatedDevice],
        *,
        seed: int = 0,
        step_s: float = 1.0,
        speed: float = 1.0,
        start: datetime | None = None,
        until: datetime | None = None,
        artefacts: ArtefactRates | None = None,
    ) -> None:
        self.name = f"simulator ({len(devices)} devices)"
        self.devices = list(devices)
        self.seed = seed
        self.step_s = step_s
        self.speed = speed
        self.start = start
        self.until = until
        self.artefacts = artefacts

    async def messages(self, next_seq: Mapping[str, int]) -> AsyncIterator[DeviceMessage]:
        stream = simulate(
            self.devices,
            self.start or datetime.now(UTC),
            self.step_s,
            seed=self.seed,
            artefacts=self.artefacts,
            until=self.until,
            first_seq=next_seq,
        )
        async for device_id, message in paced(stream, speed=self.speed):
            yield DeviceMessage(device_id, message)


class PushAdapter:
    """Messages pushed by a driver's callback, from any thread; `close()` ends the stream."""

    def __init__(self, name: str = "push") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        # Unbounded: a driver's callback cannot wait. The bound is the gateway's inbox behind
        # this stream and, on disk, the queue's budget.
        self._inbox: asyncio.Queue[DeviceMessage | None] = asyncio.Queue()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Names the loop the gateway runs on, for pushes from other threads."""
        self._loop = loop

    def push(self, device_id: str, message: VitalsMessage | EventMessage | StatusMessage) -> None:
        """Hands one message to the gateway; safe from any thread."""
        self._deliver(DeviceMessage(device_id, message))

    def close(self) -> None:
        """Ends the stream after the messages pushed so far."""
        self._deliver(None)

    async def messages(self, next_seq: Mapping[str, int]) -> AsyncIterator[DeviceMessage]:
        while (item := await self._inbox.get()) is not None:
            yield item

    def _deliver(self, item: DeviceMessage | None) -> None:
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and (loop is None or running is loop):
            self._inbox.put_nowait(item)
        elif loop is not None:
            # From a driver's thread: asyncio.Queue is not thread-safe, so hop onto the loop.
            loop.call_soon_threadsafe(self._inbox.put_nowait, item)
        else:
            raise RuntimeError("PushAdapter.push from a thread needs bind(loop) first")
