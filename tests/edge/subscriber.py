"""A test subscriber: a paho client on its own thread that records what a broker delivers and lets
an async test await it."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.protocol import VitalsMessage, decode_vitals, parse_topic

GUARD_S = 30.0  # a guard against a hang, not a timing assertion


class Subscriber:
    """Subscribes to a topic filter at QoS 1; `received` holds (device id, message) in arrival order."""

    def __init__(
        self,
        host: str,
        port: int,
        topic_filter: str,
        *,
        client_id: str,
        persistent: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        device_prefix: str = "",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.received: list[tuple[str, VitalsMessage]] = []
        # Per message received, whether it carried the DUP flag (the broker's own retry to us).
        self.dup_flags: list[bool] = []
        self._filter = topic_filter
        self._prefix = device_prefix
        self._subscribed = threading.Event()
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self._waiters: list[asyncio.Future[None]] = []
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        # Reconnect quickly after a broker restart; a persistent session keeps what came meanwhile.
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        if ssl_context is not None:
            self._client.tls_set_context(ssl_context)
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._host, self._port = host, port

    async def start(self) -> None:
        """Connects and returns once the broker confirmed the subscription."""
        await asyncio.to_thread(self._client.connect, self._host, self._port, 30)
        self._client.loop_start()
        if not await asyncio.to_thread(self._subscribed.wait, GUARD_S):
            raise TimeoutError("the subscription was not confirmed")

    async def stop(self) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def snapshot(self) -> list[tuple[str, VitalsMessage]]:
        with self._lock:
            return list(self.received)

    async def wait_until(self, predicate: Callable[[list[tuple[str, VitalsMessage]]], bool]) -> None:
        """Returns once `predicate(received so far)` holds (or raises after the guard time)."""
        async with asyncio.timeout(GUARD_S):
            while not predicate(self.snapshot()):
                waiter = self._loop.create_future()
                self._waiters.append(waiter)
                await waiter

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object
    ) -> None:
        client.subscribe(self._filter, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        device_id, kind = parse_topic(message.topic)
        if kind != "vitals" or not device_id.startswith(self._prefix):
            return
        with self._lock:
            self.received.append((device_id, decode_vitals(bytes(message.payload))))
            self.dup_flags.append(bool(message.dup))
        self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
