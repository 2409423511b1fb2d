"""The worker's MQTT side: a paho-mqtt 2.x client on its own network thread, handing messages to asyncio.

Protocol: MQTT 5 towards a real broker (Mosquitto), for the receive maximum that bounds how many
unacknowledged messages the broker sends us; MQTT 3.1.1 towards the embedded broker of `ownat dev`,
which speaks nothing else (its in-flight window of 100 plays the receive maximum's part there). Both
use QoS 1, a shared subscription (`$share/<group>/...`) so several workers split the load, and manual
acknowledgement: a message is acknowledged only when the worker calls `ack` after committing it.

Sessions are clean by default (session expiry 0): the broker forgets a worker the moment its
connection drops, so the live workers of the group get every new message at once. A persistent
session would keep receiving its share of the group's messages into a queue nobody reads until that
worker returns (measured on Mosquitto 2.0.11: a dead worker's share stalled for the whole expiry),
and Mosquitto 2.0 restores such a session after its own restart without the `$share` subscription.
What a dying worker had received and not committed is then the sender's to send again: the platform
acknowledges each committed message end to end on `.../ack` (see `devices.protocol`), and the edge
gateway re-sends what was not acknowledged. `session_expiry_s` > 0 restores a persistent session for
brokers that redistribute a shared subscription's queue.

Every SUBACK is checked: a filter refused, or granted only QoS 0, is a failure, retried after a short
pause; the worker counts as subscribed (`connected`) only once every filter is granted QoS 1. paho
reconnects by itself, after a jittered wait of at most `reconnect_cap_s` (see `mqtt_client`).

paho runs its network loop in its own thread (`loop_start`), reading the socket in large chunks
(`mqtt_client.BufferedClient`); each callback only appends to a deque
and, if no hand-over is pending yet, schedules one with `call_soon_threadsafe`, so a burst of
thousands of messages costs one wake-up of the event loop, not thousands.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from core.db import utc_now
from core.tracing import trace_headers
from devices.ingest.batch import Received
from devices.ingest.mqtt_client import BufferedClient
from devices.protocol import TOPIC_ROOT, parse_mqtt_url

log = logging.getLogger(__name__)

MqttProtocol = Literal["5", "3.1.1"]
TOPIC_KINDS = ("vitals", "status", "events")


@dataclass(frozen=True, slots=True)
class SubscriptionOptions:
    client_id: str
    share_group: str
    protocol: MqttProtocol = "5"
    receive_maximum: int = 2000
    # 0: a clean session, forgotten when the connection drops (see the module docstring).
    session_expiry_s: int = 0
    keepalive_s: int = 30
    reconnect_cap_s: float = 1.0
    resubscribe_after_s: float = 2.0

    def filters(self) -> list[str]:
        return [f"$share/{self.share_group}/{TOPIC_ROOT}/+/{kind}" for kind in TOPIC_KINDS]


class MqttConsumer:
    """Receives the devices' messages into `on_messages` (on the event loop) and sends acknowledgements."""

    def __init__(
        self,
        *,
        url: str,
        options: SubscriptionOptions,
        on_messages: Callable[[list[Received]], None],
        on_state: Callable[[bool], None] | None = None,
        trace_context: bool = False,
    ) -> None:
        self._address = parse_mqtt_url(url)
        # Whether to read `traceparent`/`tracestate` from the user properties (tracing on, MQTT 5).
        self._trace_context = trace_context and options.protocol == "5"
        self._options = options
        self._on_messages = on_messages
        self._on_state = on_state
        self._loop = asyncio.get_running_loop()
        self._inbox: deque[Received] = deque()
        self._handover_scheduled = False
        # Written by paho's thread only; read by the loop to refuse acknowledgements of an old connection.
        self._generation = 0
        self._subscribe_mid: int | None = None
        # A resubscription is sent from the event loop: its SUBACK must not be read before its mid is known.
        self._subscribe_lock = threading.Lock()
        self._lock = threading.Lock()
        self.connected = asyncio.Event()
        self.subscribe_failures = 0
        self._client: BufferedClient = self._build_client()

    @property
    def generation(self) -> int:
        return self._generation

    def start(self) -> None:
        """Starts connecting in paho's thread; `connected` is set once the broker granted the subscriptions."""
        address, options = self._address, self._options
        if options.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = options.session_expiry_s
            properties.ReceiveMaximum = options.receive_maximum
            self._client.connect_async(
                address.host,
                address.port,
                options.keepalive_s,
                clean_start=options.session_expiry_s == 0,
                properties=properties,
            )
        else:
            self._client.connect_async(address.host, address.port, options.keepalive_s)
        self._client.loop_start()

    async def stop(self) -> None:
        """Disconnects cleanly and stops paho's thread."""
        self._client.disconnect()
        # loop_stop() joins paho's thread: blocking, so it runs in a worker thread.
        await asyncio.to_thread(self._client.loop_stop)
        self.connected.clear()

    def ack(self, message: Received) -> bool:
        """Acknowledges a message if it arrived on the current connection; the broker resends the others."""
        if message.generation != self._generation or not self.connected.is_set():
            return False
        self._client.ack(message.mid, message.qos)
        return True

    def ack_many(self, messages: list[Received]) -> int:
        """Acknowledges, in order and with one write, those of `messages` that arrived on the current connection."""
        if not self.connected.is_set():
            return 0
        current = [m for m in messages if m.generation == self._generation]
        if any(m.qos != 1 for m in current):
            return sum(self.ack(m) for m in current)  # not QoS 1 throughout: one by one, as paho does
        self._client.ack_many([m.mid for m in current])
        return len(current)

    def publish_retained(self, messages: list[tuple[str, bytes]]) -> int:
        """Publishes (topic, payload) pairs retained at QoS 0 with one write; 0 when not connected."""
        if not self.connected.is_set():
            return 0
        return self._client.publish_retained_many(messages)

    def _build_client(self) -> BufferedClient:
        options = self._options
        if options.protocol == "5":
            client = BufferedClient(
                CallbackAPIVersion.VERSION2,
                client_id=options.client_id,
                protocol=mqtt.MQTTv5,
                manual_ack=True,
            )
        else:
            client = BufferedClient(
                CallbackAPIVersion.VERSION2,
                client_id=options.client_id,
                protocol=mqtt.MQTTv311,
                clean_session=options.session_expiry_s == 0,
                manual_ack=True,
            )
        if self._address.username:
            client.username_pw_set(self._address.username, self._address.password or None)
        if self._address.tls:
            client.tls_set()
        client.reconnect_cap_s = options.reconnect_cap_s
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # The callbacks below run in paho's network thread.

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connection refused: %s", reason)
            return
        self._generation += 1
        log.info(
            "MQTT connected",
            extra={"client_id": self._options.client_id, "session_present": flags.session_present},
        )
        self._subscribe(client)

    def _subscribe(self, client: mqtt.Client) -> None:
        with self._subscribe_lock:
            if self._options.protocol == "5":
                _result, mid = client.subscribe(
                    [(f, SubscribeOptions(qos=1)) for f in self._options.filters()]
                )
            else:
                _result, mid = client.subscribe([(f, 1) for f in self._options.filters()])
            self._subscribe_mid = mid

    def _on_subscribe(self, client: mqtt.Client, _userdata: Any, mid: int, reasons: Any, _props: Any) -> None:
        with self._subscribe_lock:
            if mid != self._subscribe_mid:
                return  # the answer to an earlier attempt
        # Only a granted subscription is worth announcing: before the SUBACK, a new share group
        # would not receive what is published. QoS 0 would be at most once: refused as well.
        granted = [int(getattr(reason, "value", reason)) for reason in reasons]
        if len(granted) == len(self._options.filters()) and all(qos in (1, 2) for qos in granted):
            log.info("MQTT subscribed", extra={"filters": self._options.filters()})
            self._loop.call_soon_threadsafe(self._set_connected, True)
            return
        self.subscribe_failures += 1
        log.error(
            "MQTT subscription not granted at QoS 1 (SUBACK %s for %s); trying again in %.0f s",
            granted,
            self._options.filters(),
            self._options.resubscribe_after_s,
        )
        generation = self._generation
        self._loop.call_soon_threadsafe(
            self._loop.call_later, self._options.resubscribe_after_s, self._resubscribe, generation
        )

    def _resubscribe(self, generation: int) -> None:
        # On the event loop; paho's subscribe() is safe to call from any thread.
        if generation == self._generation and self._client.is_connected():
            self._subscribe(self._client)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        log.warning("MQTT connection lost: %s", reason)
        self._loop.call_soon_threadsafe(self._set_connected, False)

    def _set_connected(self, connected: bool) -> None:
        # On the event loop.
        if connected:
            self.connected.set()
        else:
            self.connected.clear()
        if self._on_state is not None:
            self._on_state(connected)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(message._topic)  # a topic that is not UTF-8 still gets a dead letter
        received = Received(
            topic, bytes(message.payload), message.mid, message.qos, self._generation, utc_now()
        )
        if self._trace_context:
            user_properties = getattr(message.properties, "UserProperty", None)
            if user_properties:
                received.traceparent, received.tracestate = trace_headers(user_properties)
        self._inbox.append(received)
        with self._lock:
            if self._handover_scheduled:
                return
            self._handover_scheduled = True
        self._loop.call_soon_threadsafe(self._hand_over)

    def _hand_over(self) -> None:
        # On the event loop: reset the flag first, so that a message appended meanwhile schedules again.
        with self._lock:
            self._handover_scheduled = False
        batch: list[Received] = []
        inbox = self._inbox
        while inbox:
            batch.append(inbox.popleft())
        if batch:
            self._on_messages(batch)
