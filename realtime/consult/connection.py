"""One consult socket: its caller, its place in a room, and an ordered, bounded outbound queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from realtime.consult.identity import Caller
from realtime.consult.rooms import RoomPass
from realtime.consult.state import Member
from realtime.hub.connection import Transport

# Signalling is lossless: a client this far behind is broken, and is closed rather than skipped.
QUEUE_SIZE = 512
CLOSE_TOO_SLOW = 4429
CLOSE_TIMEOUT_S = 2.0


@dataclass(eq=False)
class ConsultConnection:
    transport: Transport
    caller: Caller
    member: Member | None = None
    room_pass: RoomPass | None = None
    close_code: int | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    _close_timer: asyncio.TimerHandle | None = None

    @property
    def room(self) -> uuid.UUID | None:
        return None if self.room_pass is None else self.room_pass.room

    def send(self, event: dict[str, Any]) -> None:
        """Queues an event; a client that stopped reading is closed instead."""
        if self.closed.is_set():
            return
        try:
            self._queue.put_nowait(json.dumps(event, separators=(",", ":")))
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW)

    def close(self, code: int) -> None:
        """Ends the connection once the queued events are written."""
        if self.close_code is None:
            self.close_code = code
        # Wakes the writer, which drains what is queued and then stops.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait("")

    def close_at(self, delay_s: float, event: dict[str, Any], code: int) -> None:
        """Sends `event` and closes after `delay_s` (the room's closing time), unless left before."""
        self.cancel_timer()
        loop = asyncio.get_running_loop()
        self._close_timer = loop.call_later(max(delay_s, 0), self._expire, event, code)

    def cancel_timer(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None

    def _expire(self, event: dict[str, Any], code: int) -> None:
        self.send(event)
        self.close(code)

    async def run_writer(self) -> None:
        """Writes queued events in order until closed."""
        while True:
            text = await self._queue.get()
            if text:
                await self.transport.send_text(text)
            if self.close_code is not None and self._queue.empty():
                self.closed.set()
                return
