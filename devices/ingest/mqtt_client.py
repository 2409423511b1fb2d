"""paho-mqtt's client reading its socket in large chunks instead of a few bytes at a time.

paho reads each incoming packet with at least three `recv` calls (the command byte, the length
bytes one by one, then the rest) after a `select` of its own. At hundreds of messages a second that
is thousands of system calls, each releasing and retaking the GIL that the worker's event loop is
busy with. This client takes whatever the socket holds in one `recv` (up to 64 KiB, tens of
messages), serves paho's small reads from that, and keeps reading packets until the buffer is
empty, since `select` cannot see data that is already in our hands. Acknowledgements go the other
way in bulk: `ack_many` queues a committed batch's PUBACKs, in order, as one write, where `ack`
would wake paho's thread and make a system call per message.

It overrides two of paho's internal methods (`_sock_recv`, `_sock_close`) and the public
`loop_read`, and queues through `_packet_queue`; paho is pinned in `constraints.txt`, and the
ingest tests exercise this client against the real broker.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

READ_CHUNK = 64 * 1024
# PUBACK: fixed header, remaining length 2, packet id (MQTT 3.1.1; MQTT 5 allows omitting the
# reason code when it is success, as paho itself does).
_PUBACK = struct.Struct("!BBH")


class BufferedClient(mqtt.Client):
    """A paho `Client` whose network thread reads the socket a chunk at a time."""

    _read_buffer: bytes = b""
    _read_position: int = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        buffer, position = self._read_buffer, self._read_position
        if position >= len(buffer):
            # Empty: one real read. BlockingIOError (nothing there yet) and errors reach paho as before.
            buffer = super()._sock_recv(READ_CHUNK)
            if not buffer:
                return buffer  # the broker closed the connection
            position = 0
            self._read_buffer = buffer
        end = position + bufsize
        self._read_position = end
        return buffer[position:end]

    def _has_buffered(self) -> bool:
        return self._read_position < len(self._read_buffer)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        result = super().loop_read(max_packets)
        while result == MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self._has_buffered():
            result = super().loop_read(max_packets)
        return result

    def ack_many(self, mids: Sequence[int]) -> None:
        """Acknowledges QoS 1 messages by packet id, in this order, with a single write."""
        if mids:
            packet = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
            self._packet_queue(mqtt.PUBACK, packet, 0, 0)

    def _sock_close(self) -> None:
        # Bytes of a closed connection must never be read as the start of the next one's.
        self._read_buffer, self._read_position = b"", 0
        super()._sock_close()
