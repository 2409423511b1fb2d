"""One MQTT connection driven by the asyncio loop: a paho client whose socket the loop watches.

Only `connect()` (name resolution, TCP and TLS handshakes) blocks; the caller runs it on a worker
thread and then calls `watch_socket()` on the loop. From then on paho's callbacks run on the loop
thread: reads through `add_reader`, writes through `add_writer` while paho has data to send.
"""

from __future__ import annotations

import asyncio
import logging

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from devices.protocol import AckMessage, DeviceMessageError, decode_ack
from edge.confirmations import acked_device

logger = logging.getLogger(__name__)


class ConnectFailed(Exception):
    """A connection attempt that failed: unreachable, TLS refused, or CONNACK refused."""


class MqttConnection:
    """One paho client and one socket: lives from connect to disconnect, never reused."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: mqtt.Client, wake: asyncio.Event) -> None:
        self.loop = loop
        self.client = client
        self.wake = wake
        self.connack: asyncio.Future[None] = loop.create_future()
        self.lost = asyncio.Event()
        self.lost_reason = "connection closed"
        self.inflight: dict[int, int] = {}  # paho message id -> queue id
        self.acked: list[int] = []
        self.rejected: list[tuple[int, str]] = []
        # The platform's end-to-end acknowledgements, as they arrive: (device id, acknowledgement).
        self.confirmations: list[tuple[str, AckMessage]] = []
        # Devices whose acknowledgement topic this connection subscribed to, or was refused.
        self.ack_devices: set[str] = set()
        self.ack_refused: set[str] = set()
        self._subacks: dict[int, asyncio.Future[list[int]]] = {}
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message

    def watch_socket(self) -> None:
        """Hands the connected socket to the event loop (called on the loop once connect() returned)."""
        client = self.client
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        sock = client.socket()
        if sock is None:
            raise ConnectFailed("the connection closed during the handshake")
        self.loop.add_reader(sock, client.loop_read)
        if client.want_write():
            self.loop.add_writer(sock, client.loop_write)

    async def subscribe(self, topics: list[str], timeout_s: float) -> list[int]:
        """Subscribes at QoS 1; the SUBACK's codes, one per topic (granted QoS, or >= 0x80 refused)."""
        result, mid = self.client.subscribe([(topic, 1) for topic in topics])
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise ConnectFailed(f"could not send SUBSCRIBE: {mqtt.error_string(result)}")
        answer = self._subacks[mid] = self.loop.create_future()
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait([answer, lost], timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            self._subacks.pop(mid, None)
        if answer.done():
            return answer.result()
        raise ConnectFailed(
            "the connection closed while subscribing"
            if self.lost.is_set()
            else f"no SUBACK within {timeout_s} s"
        )

    def close(self) -> None:
        """Drops the socket without ceremony (the broker went away or we give up)."""
        sock = self.client.socket()
        if sock is not None:
            self.loop.remove_reader(sock)
            self.loop.remove_writer(sock)
            sock.close()
        self.lost.set()

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, properties: object
    ) -> None:
        if self.connack.done():
            return
        if reason.is_failure:
            self.connack.set_exception(ConnectFailed(f"the broker refused the connection: {reason}"))
        else:
            self.connack.set_result(None)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, properties: object
    ) -> None:
        self.lost_reason = str(reason)
        if not self.connack.done():
            self.connack.set_exception(ConnectFailed(f"the broker closed the connection: {reason}"))
        self.lost.set()
        self.wake.set()

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: ReasonCode, properties: object
    ) -> None:
        queue_id = self.inflight.pop(mid, None)
        if queue_id is None:
            return
        # MQTT 5 brokers say why they refuse a message (e.g. not authorised by the ACL); 3.1.1
        # brokers acknowledge and silently discard it, which no client can tell.
        if reason.is_failure:
            self.rejected.append((queue_id, str(reason)))
        else:
            self.acked.append(queue_id)
        self.wake.set()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: object, mid: int, reasons: list[ReasonCode], properties: object
    ) -> None:
        answer = self._subacks.get(mid)
        if answer is not None and not answer.done():
            answer.set_result([reason.value for reason in reasons])

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        device_id = acked_device(message.topic)
        if device_id is None:
            return
        try:
            self.confirmations.append((device_id, decode_ack(bytes(message.payload))))
        except DeviceMessageError as error:
            # Not the platform's (a device or a tool published there): nothing to act on.
            logger.warning("ignoring an acknowledgement for %s that is not one: %s", device_id, error.reason)
            return
        self.wake.set()

    def _on_socket_close(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        self.loop.remove_reader(sock)  # type: ignore[arg-type]
        self.loop.remove_writer(sock)  # type: ignore[arg-type]

    def _on_register_write(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        self.loop.add_writer(sock, client.loop_write)  # type: ignore[arg-type]

    def _on_unregister_write(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        self.loop.remove_writer(sock)  # type: ignore[arg-type]
