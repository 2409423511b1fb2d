"""End-to-end confirmation: which messages sent on one connection the platform has not yet committed.

The broker's PUBACK only says the broker has a message; a broker restart, a broker that loses its
disk, or an ingest worker that dies with the message in hand can still lose it. So a message with a
`seq` stays in the queue until the platform's acknowledgement on `ownat/v1/devices/<id>/ack` names
that seq (see `devices.protocol`), and is sent again when none came within `timeout_s`; each further
wait doubles, up to `cap_s`, so a platform that is down is not flooded. At most `window` messages
await confirmation at once: a platform that stops confirming stops the sending too, and the backlog
waits on disk rather than in the broker.

One `Confirmations` per connection: on a new connection everything still queued is sent again in
queue order (storage ignores copies), so nothing carries over.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from devices.protocol import ACK, TOPIC_ROOT, AckMessage


@dataclass(slots=True)
class Unconfirmed:
    device_id: str
    seq: int
    due_at: float  # loop time at which it is sent again unless confirmed first
    wait_s: float


class Confirmations:
    """Messages sent on one connection that await the platform's confirmation, by queue id."""

    def __init__(self, *, timeout_s: float, cap_s: float, window: int) -> None:
        self.timeout_s = timeout_s
        self.cap_s = max(cap_s, timeout_s)
        self.window = window
        self._pending: dict[int, Unconfirmed] = {}
        self._by_device: dict[str, dict[int, int]] = {}  # device -> seq -> queue id
        # (due at, queue id), soonest first; an entry confirmed or rescheduled meanwhile is skipped.
        self._deadlines: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, queue_id: int) -> bool:
        return queue_id in self._pending

    @property
    def room(self) -> int:
        """How many more messages may be sent before confirmations must come back."""
        return max(0, self.window - len(self._pending))

    def sent(self, queue_id: int, device_id: str, seq: int, now: float) -> None:
        """Notes a first send on this connection."""
        entry = self._pending[queue_id] = Unconfirmed(device_id, seq, now + self.timeout_s, self.timeout_s)
        self._by_device.setdefault(device_id, {})[seq] = queue_id
        heapq.heappush(self._deadlines, (entry.due_at, queue_id))

    def confirm(self, device_id: str, ack: AckMessage) -> None:
        """Forgets what `ack` confirms (the queue deletes the rows themselves, sent here or not)."""
        waiting = self._by_device.get(device_id, {})
        self.forget([queue_id for seq, queue_id in waiting.items() if ack.covers(seq)])

    def forget(self, queue_ids: list[int]) -> None:
        """Stops tracking messages (confirmed, or dropped from the queue)."""
        for queue_id in queue_ids:
            entry = self._pending.pop(queue_id, None)
            if entry is None:
                continue
            waiting = self._by_device[entry.device_id]
            waiting.pop(entry.seq, None)
            if not waiting:
                del self._by_device[entry.device_id]

    def due(self, now: float, limit: int) -> list[int]:
        """Up to `limit` queue ids whose wait ran out, in queue order; each waits twice as long next time."""
        ids: list[int] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now and len(ids) < limit:
            due_at, queue_id = heapq.heappop(deadlines)
            entry = self._pending.get(queue_id)
            if entry is None or entry.due_at != due_at:
                continue  # confirmed, or already rescheduled
            ids.append(queue_id)
        for queue_id in ids:
            entry = self._pending[queue_id]
            entry.wait_s = min(self.cap_s, entry.wait_s * 2)
            entry.due_at = now + entry.wait_s
            heapq.heappush(deadlines, (entry.due_at, queue_id))
        return sorted(ids)


def acked_device(topic: str) -> str | None:
    """The device id of an acknowledgement topic, `ownat/v1/devices/<id>/ack`; None for any other topic."""
    prefix, suffix = TOPIC_ROOT + "/", "/" + ACK
    if not (topic.startswith(prefix) and topic.endswith(suffix)):
        return None
    device_id = topic[len(prefix) : -len(suffix)]
    return device_id if device_id and "/" not in device_id else None
