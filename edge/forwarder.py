"""Forwarding queued messages to the MQTT broker over one connection: a `BrokerLink`.

paho-mqtt 2.x driven by the asyncio loop (no paho thread): the socket is watched with
`add_reader`/`add_writer`, `loop_misc` runs on a timer for keep-alive, and only the blocking
TCP/TLS handshake of `connect()` goes to a worker thread. Every callback then runs on the loop.

Delivery: QoS 1, at least once. A message leaves the queue only when its PUBACK arrives
(`on_publish`); whatever was in flight when a connection dropped is sent again, from the queue,
on the next one. Each connection uses a fresh paho client with a clean session, so paho never
re-sends anything on its own: the queue is the only store, and only unacknowledged messages
are ever re-sent (at most `inflight` of them per link, which bounds the duplicates an outage
can cause; the platform drops them by the unique key (device, metric, time)).

Order: a link publishes strictly in queue order, and an MQTT broker keeps the order of QoS 1
messages from one connection on one topic, so each device's messages arrive in order. The
in-flight window (our own, also set as paho's `max_inflight_messages` so paho never queues)
lets a link keep `inflight` messages unacknowledged to cover the round trip; a window of 1
would cost a round trip per message after an outage, with no gain in order.

Credentials: a link is one MQTT identity. With per-device credentials (the broker's ACL lets
each device publish only under its own topic id) the gateway opens one link per device, with
that device's username, password and its id as client id; devices without credentials of their
own share one link under the gateway's account, which the ACL must allow to publish for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass

from paho.mqtt.enums import MQTTErrorCode

from edge.backoff import Backoff
from edge.connection import ConnectFailed, MqttConnection
from edge.metrics import EdgeCounters
from edge.mqtt_settings import BrokerSettings
from edge.store import QueueWorker

logger = logging.getLogger(__name__)

# How often the link services keep-alive (PINGREQ) and notices a silent broker.
MISC_INTERVAL_S = 1.0
# How long a clean shutdown waits for the broker to take our DISCONNECT.
DISCONNECT_GRACE_S = 2.0
# A connection that lasted less than this counts as a flap: the next pause grows as for a failed
# attempt, so a broker that accepts and at once drops us (e.g. two gateways sharing a client id,
# each taking the other's session over) is not hammered.
STABLE_CONNECTION_S = 30.0


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """One MQTT identity and the devices it publishes for (`exclude`: all devices except those)."""

    name: str
    client_id: str
    username: str | None
    password: str | None
    devices: frozenset[str]
    exclude: bool = False

    def serves(self, device_id: str) -> bool:
        return (device_id in self.devices) != self.exclude


class BrokerLink:
    """Keeps one MQTT connection up (reconnecting with backoff) and forwards its devices' queued messages."""

    def __init__(
        self, spec: LinkSpec, broker: BrokerSettings, queue: QueueWorker, counters: EdgeCounters
    ) -> None:
        self.spec = spec
        self.broker = broker
        self.queue = queue
        self.counters = counters
        self.connected = False
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._backoff: Backoff = broker.backoff

    def wake(self) -> None:
        """New messages may be waiting: look at the queue again."""
        self._wake.set()

    def stop(self) -> None:
        """Asks `run` to disconnect cleanly and return."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Connects, forwards, and reconnects after failures until stopped."""
        loop = asyncio.get_running_loop()
        attempt = 0  # failed attempts in a row
        flaps = 0  # short-lived connections in a row
        ever_connected = False
        while not self._stopping:
            try:
                connection = await self._connect()
            except ConnectFailed as error:
                self._note_failure(str(error), first=attempt == 0)
                if await self._pause(self._backoff.delay_s(attempt + flaps)):
                    return
                attempt += 1
                continue
            attempt = 0
            if ever_connected:
                self.counters.reconnects += 1
            ever_connected = True
            connected_at = loop.time()
            self._set_connected(True)
            logger.info("edge link %s connected to %s", self.spec.name, self.broker.address)
            try:
                await self._forward(connection)
            finally:
                self._set_connected(False)
                await self._settle(connection)
                await self._close(connection)
            if not self._stopping:
                logger.warning(
                    "edge link %s lost the broker (%s); %d message(s) were awaiting PUBACK and will be sent again",
                    self.spec.name,
                    connection.lost_reason,
                    len(connection.inflight),
                )
                flaps = flaps + 1 if loop.time() - connected_at < STABLE_CONNECTION_S else 0
                if await self._pause(self._backoff.delay_s(flaps)):
                    return

    async def _connect(self) -> MqttConnection:
        loop = asyncio.get_running_loop()
        client = self.broker.new_client(self.spec.client_id, self.spec.username, self.spec.password)
        client.max_inflight_messages_set(self.broker.inflight)
        connection = MqttConnection(loop, client, self._wake)
        try:
            # connect() resolves, opens the TCP socket and completes the TLS handshake: blocking
            # work, so it runs on a worker thread; it only writes CONNECT, the CONNACK comes later.
            await loop.run_in_executor(None, self.broker.connect, client)
        except ssl.SSLError as error:
            raise ConnectFailed(f"TLS with {self.broker.address} failed: {error}") from None
        except (OSError, ValueError) as error:
            raise ConnectFailed(f"cannot reach {self.broker.address}: {error}") from None
        try:
            connection.watch_socket()
            async with asyncio.timeout(self.broker.connect_timeout_s):
                await connection.connack
        except TimeoutError:
            connection.close()
            raise ConnectFailed(
                f"no CONNACK from {self.broker.address} within {self.broker.connect_timeout_s} s"
            ) from None
        except ConnectFailed:
            connection.close()
            raise
        return connection

    async def _forward(self, connection: MqttConnection) -> None:
        cursor = 0  # the last queue id sent on this connection
        window = self.broker.inflight
        while not connection.lost.is_set() and not self._stopping:
            self._wake.clear()
            await self._settle(connection)
            space = window - len(connection.inflight)
            if space > 0:
                rows = await self.queue.peek(
                    after_id=cursor, limit=space, devices=self.spec.devices, exclude=self.spec.exclude
                )
                for row in rows:
                    if connection.lost.is_set():
                        break
                    info = connection.client.publish(row.topic, row.payload, qos=1, retain=row.retain)
                    if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        break
                    connection.inflight[info.mid] = row.id
                    cursor = row.id
                    self.counters.sent += 1
                if rows:
                    self.counters.changed()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MISC_INTERVAL_S):
                    await self._wake.wait()
            if not connection.lost.is_set():
                connection.client.loop_misc()

    async def _settle(self, connection: MqttConnection) -> None:
        """Deletes acknowledged (and broker-refused) messages from the queue."""
        acked, connection.acked = connection.acked, []
        rejected, connection.rejected = connection.rejected, []
        if not acked and not rejected:
            return
        await self.queue.delete([*acked, *(queue_id for queue_id, _ in rejected)])
        self.counters.acked += len(acked)
        self.counters.set_queue(self.queue.last_stats)
        if rejected:
            self.counters.rejected += len(rejected)
            logger.error(
                "edge link %s: the broker refused %d message(s) (%s); they are dropped, as re-sending "
                "cannot succeed; check the broker's ACL for this identity",
                self.spec.name,
                len(rejected),
                ", ".join(sorted({reason for _, reason in rejected})),
            )
        self.counters.changed()

    async def _close(self, connection: MqttConnection) -> None:
        if not connection.lost.is_set():
            connection.client.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DISCONNECT_GRACE_S):
                    await connection.lost.wait()
        connection.close()

    async def _pause(self, delay_s: float) -> bool:
        """Waits `delay_s` unless stopped first; True when stopped."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay_s):
                while not self._stopping:
                    self._wake.clear()
                    await self._wake.wait()
        return self._stopping

    def _note_failure(self, reason: str, *, first: bool) -> None:
        self.last_error = reason
        self.counters.connect_failures += 1
        self.counters.changed()
        # The first failure of a series is a warning; the repeats would flood the log, and the
        # periodic status line already shows the link is down.
        logger.log(logging.WARNING if first else logging.DEBUG, "edge link %s: %s", self.spec.name, reason)

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        self.counters.links_connected += 1 if connected else -1
        self.counters.changed()
