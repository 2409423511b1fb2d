"""What the broker keeps per client id: its subscriptions and the QoS 1 messages on their way to it."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from devices.broker.packets import Publish, encode_publish

logger = logging.getLogger(__name__)

# QoS 1 messages sent and not yet acknowledged, per session; later ones wait in order behind them,
# which also bounds what a subscriber that stopped reading can pile up in its socket buffer.
MAX_INFLIGHT = 100
# Messages waiting per session (offline, or behind the in-flight window); past this new ones are
# dropped, as Mosquitto does with max_queued_messages, so one dead subscriber cannot eat the memory.
MAX_QUEUED = 10_000
# QoS 0 promises nothing: a subscriber whose socket buffer is this full loses them.
MAX_QOS0_BUFFER_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Message:
    """One publication on its way to one subscriber, with the QoS and retain flag it is sent with."""

    topic: str
    payload: bytes
    qos: int
    retain: bool = False


class Session:
    """One client id's state; it outlives the network connection unless the client asked for a clean one."""

    def __init__(self, client_id: str, *, clean: bool) -> None:
        self.client_id = client_id
        self.clean = clean
        # Filter as subscribed (a `$share/...` prefix included) -> granted QoS.
        self.subscriptions: dict[str, int] = {}
        # QoS 2 packet ids answered with PUBREC and awaiting PUBREL, so a resend is not routed twice.
        self.pending_releases: set[int] = set()
        self._inflight: dict[int, Message] = {}
        self._queued: deque[Message] = deque()
        self._writer: asyncio.StreamWriter | None = None
        self._last_packet_id = 0
        self._dropped = 0

    @property
    def connected(self) -> bool:
        return self._writer is not None

    def attach(self, writer: asyncio.StreamWriter) -> None:
        """Binds a network connection: unacknowledged messages go again (DUP set), then the queue."""
        self._writer = writer
        for packet_id, message in self._inflight.items():
            self._send(message, packet_id, dup=True)
        self._pump()

    def detach(self, writer: asyncio.StreamWriter) -> None:
        """Lets go of `writer` if it is still ours (a newer connection may have taken the session over)."""
        if self._writer is writer:
            self._writer = None

    def kick(self) -> None:
        """Closes the current connection because another one is taking this client id over (spec 3.1.4)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def deliver(self, message: Message) -> None:
        """Sends now, or queues a QoS 1 message until the client is connected and has room."""
        if message.qos == 0:
            writer = self._writer
            if writer is not None and writer.transport.get_write_buffer_size() < MAX_QOS0_BUFFER_BYTES:
                self._send(message, None, dup=False)
            return
        if len(self._queued) >= MAX_QUEUED:
            self._dropped += 1
            if self._dropped % 1000 == 1:
                logger.warning(
                    "dropping QoS 1 messages for a full session",
                    extra={"client_id": self.client_id, "dropped": self._dropped},
                )
            return
        self._queued.append(message)
        self._pump()

    def acknowledge(self, packet_id: int) -> None:
        """A PUBACK arrived: the message is delivered and frees a place in the window."""
        if self._inflight.pop(packet_id, None) is not None:
            self._pump()

    def _pump(self) -> None:
        while self._writer is not None and self._queued and len(self._inflight) < MAX_INFLIGHT:
            message = self._queued.popleft()
            packet_id = self._next_packet_id()
            self._inflight[packet_id] = message
            self._send(message, packet_id, dup=False)

    def _next_packet_id(self) -> int:
        # Ids run 1..65535 and must not reuse one still in flight; the window is far smaller than that.
        while True:
            self._last_packet_id = self._last_packet_id % 0xFFFF + 1
            if self._last_packet_id not in self._inflight:
                return self._last_packet_id

    def _send(self, message: Message, packet_id: int | None, *, dup: bool) -> None:
        # A connection that is going away keeps its QoS 1 messages in flight for the next one.
        if self._writer is None or self._writer.is_closing():
            return
        packet = Publish(message.topic, message.payload, message.qos, message.retain, dup, packet_id)
        self._writer.write(encode_publish(packet))
