"""paho-mqtt's client reading its socket in large chunks instead of a few bytes at a time.

paho reads each incoming packet with at least three `recv` calls (the command byte, the length
bytes one by one, then the rest) after a `select` of its own. At hundreds of messages a second that
is thousands of system calls, each releasing and retaking the GIL that the worker's event loop is
busy with. This client takes whatever the socket holds in one `recv` (up to 64 KiB, tens of
messages), serves paho's small reads from that, and keeps reading packets until the buffer is
empty, since `select` cannot see data that is already in our hands. Acknowledgements go the other
way in bulk: `ack_many` queues a committed batch's PUBACKs, in order, as one write, where `ack`
would wake paho's thread and make a system call per message; `publish_retained_many` does the same
for the acknowledgements published to devices after each commit.

Reconnecting: paho doubles its delay up to a cap, without jitter, and its smallest cap is a whole
second (an int). `_reconnect_wait` here waits a random time up to `base * 2^n`, capped at
`reconnect_cap_s` (full jitter), so a worker is back within about a second of the broker, and many
workers do not knock at the same instant.

It overrides three of paho's internal methods (`_sock_recv`, `_sock_close`, `_reconnect_wait`) and
the public `loop_read`, and queues through `_packet_queue`; paho is pinned in `constraints.txt`, and
the ingest tests exercise this client against the real broker.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, _ConnectionState

from core.bus import reconnect_delay_s

READ_CHUNK = 64 * 1024
# PUBACK: fixed header, remaining length 2, packet id (MQTT 3.1.1; MQTT 5 allows omitting the
# reason code when it is success, as paho itself does).
_PUBACK = struct.Struct("!BBH")
# PUBLISH at QoS 0 with the retain flag.
_PUBLISH_RETAINED_QOS0 = mqtt.PUBLISH | 0x01
# How often a reconnect wait looks whether the client was stopped meanwhile.
_WAIT_SLICE_S = 0.1


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
        # Never queued outside a connection: bytes written before the next CONNECT break the protocol.
        if mids and self.is_connected():
            packet = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
            self._packet_queue(mqtt.PUBACK, packet, 0, 0)

    def publish_retained_many(self, messages: Sequence[tuple[str, bytes]]) -> int:
        """Publishes (topic, payload) pairs retained at QoS 0, in this order, with a single write; how many."""
        if not messages or not self.is_connected():
            return 0
        mqtt5 = self._protocol == mqtt.MQTTv5
        frames = []
        for topic, payload in messages:
            name = topic.encode()
            # Topic name, then (MQTT 5) an empty property list, then the payload.
            body = b"".join((struct.pack("!H", len(name)), name, b"\x00" if mqtt5 else b"", payload))
            frames.append(bytes((_PUBLISH_RETAINED_QOS0,)) + _remaining_length(len(body)) + body)
        # paho marks a QoS 0 publication's info as published once written, so it needs one.
        self._packet_queue(_PUBLISH_RETAINED_QOS0, b"".join(frames), 0, 0, mqtt.MQTTMessageInfo(0))
        return len(frames)

    reconnect_base_s = 0.25
    reconnect_cap_s = 1.0
    _reconnect_attempt = 0

    def _reconnect_wait(self) -> None:
        # paho resets `_reconnect_delay` to None on each accepted CONNACK: the series starts again.
        with self._reconnect_delay_mutex:
            first = self._reconnect_delay is None
            self._reconnect_attempt = 0 if first else self._reconnect_attempt + 1
            delay_s = reconnect_delay_s(
                self._reconnect_attempt, base_s=self.reconnect_base_s, cap_s=self.reconnect_cap_s
            )
            self._reconnect_delay = delay_s  # type: ignore[assignment]
        deadline = time.monotonic() + delay_s
        stopping = (_ConnectionState.MQTT_CS_DISCONNECTING, _ConnectionState.MQTT_CS_DISCONNECTED)
        # paho calls this on its own network thread: sleeping here blocks nothing else.
        while self._state not in stopping and not self._thread_terminate:
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                return
            time.sleep(min(remaining_s, _WAIT_SLICE_S))

    def _sock_close(self) -> None:
        # Bytes of a closed connection must never be read as the start of the next one's.
        self._read_buffer, self._read_position = b"", 0
        super()._sock_close()


def _remaining_length(length: int) -> bytes:
    """MQTT's variable-length encoding of a packet's remaining length."""
    encoded = bytearray()
    while True:
        length, digit = divmod(length, 128)
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)
