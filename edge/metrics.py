"""The edge gateway's counters, a status line for the log, and a way to await a state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.queue import QueueStats


@dataclass(slots=True)
class EdgeCounters:
    """Totals since the agent started (acked: PUBACKs from the broker; confirmed: messages the platform
    acknowledged end to end; resent: sent again for want of a confirmation; dropped: by the disk
    budget; rejected: refused by the broker)."""

    queued: int = 0
    sent: int = 0
    acked: int = 0
    confirmed: int = 0
    resent: int = 0
    dropped: int = 0
    rejected: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    # Gauges, refreshed by the gateway.
    pending: int = 0
    pending_bytes: int = 0
    links_connected: int = 0
    links_total: int = 0
    _waiters: list[asyncio.Future[None]] = field(default_factory=list, repr=False)

    def set_queue(self, stats: QueueStats) -> None:
        """Refreshes the pending gauges from the queue's totals."""
        self.pending = stats.pending
        self.pending_bytes = stats.pending_bytes

    def changed(self) -> None:
        """Wakes everyone waiting in `wait_until`; call after updating counters (on the event loop)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, predicate: Callable[[EdgeCounters], bool]) -> None:
        """Returns once `predicate(counters)` holds; the caller bounds the wait with a timeout."""
        while not predicate(self):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def status_line(self) -> str:
        return (
            f"edge status: broker links {self.links_connected}/{self.links_total} connected; "
            f"pending {self.pending} ({self.pending_bytes / 1024:.1f} KiB); queued {self.queued}, "
            f"sent {self.sent}, acked {self.acked}, confirmed {self.confirmed}, resent {self.resent}, "
            f"dropped {self.dropped}, rejected {self.rejected}, "
            f"reconnects {self.reconnects}, failed connects {self.connect_failures}"
        )
