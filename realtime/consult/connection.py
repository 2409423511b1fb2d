"""One consult socket: its caller until their token expires, its room, an ordered, bounded outbound queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from realtime.consult.identity import Caller
from realtime.consult.rooms import RoomPass
from realtime.consult.state import Member
from realtime.socket_signin import TokenDeadline
from realtime.socket_wire import Transport

# Signalling is lossless: a client this far behind is broken, and is closed rather than skipped.
QUEUE_SIZE = 512
CLOSE_TOO_SLOW = 4429


@dataclass(eq=False)
class ConsultConnection:
    transport: Transport
    caller: Caller
    # When the caller's token expires; a renewal on the socket moves it on.
    deadline: TokenDeadline
    member: Member | None = None
    room_pass: RoomPass | None = None
    close_code: int | None = None
    close_reason: str = ""
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

    def renew(self, caller: Caller, expires_at: datetime) -> None:
        """The same caller signed in again on the open socket: its new token's expiry applies."""
        self.caller = caller
        self.deadline.move(expires_at)

    def close(self, code: int, reason: str = "") -> None:
        """Ends the connection once the queued events are written."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
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
