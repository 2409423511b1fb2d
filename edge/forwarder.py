"""Forwarding queued messages to the MQTT broker over one connection: a `BrokerLink`.

paho-mqtt 2.x driven by the asyncio loop (no paho thread): the socket is watched with
`add_reader`/`add_writer`, `loop_misc` runs on a timer for keep-alive, and only the blocking
TCP/TLS handshake of `connect()` goes to a worker thread. Every callback then runs on the loop.

Delivery: QoS 1, at least once, end to end. A message with a `seq` leaves the queue only when the
platform's acknowledgement names it (`edge.confirmations`): the link subscribes to the
acknowledgement topic of each device it sends for, before sending, and sends again what is not
confirmed in time. A message without one (a status without seq), or of a device whose acknowledgements
the broker will not let us read (logged as an error), leaves on the broker's PUBACK, as does every
message with `end_to_end_ack` off. Whatever was unconfirmed when a connection dropped is sent again,
from the queue, on the next one. Each connection uses a fresh paho client with a clean session, so
paho never re-sends anything on its own: the queue is the only store, and the platform drops the
copies by the unique key (device, metric, time).

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

from devices.protocol import ack_topic
from edge.backoff import Backoff
from edge.confirmations import Confirmations
from edge.connection import ConnectFailed, MqttConnection
from edge.metrics import EdgeCounters
from edge.mqtt_settings import BrokerSettings
from edge.queue import StoredMessage
from edge.store import QueueWorker

logger = logging.getLogger(__name__)

# How often the link services keep-alive (PINGREQ) and notices a silent broker.
MISC_INTERVAL_S = 1.0
# How long a clean shutdown waits for the broker to take our DISCONNECT.
DISCONNECT_GRACE_S = 2.0
# Acknowledgement topics per SUBSCRIBE packet.
SUBSCRIBE_BATCH = 100
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
            except ConnectFailed as error:  # a SUBSCRIBE the broker did not answer
                connection.lost_reason = str(error)
            finally:
                self._set_connected(False)
                await self._close(connection)
            if not self._stopping:
                logger.warning(
                    "edge link %s lost the broker (%s); %d message(s) still queued will be sent again",
                    self.spec.name,
                    connection.lost_reason,
                    self.counters.pending,
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
        broker = self.broker
        confirmations = (
            Confirmations(
                timeout_s=broker.ack_timeout_s, cap_s=broker.ack_timeout_cap_s, window=broker.ack_window
            )
            if broker.end_to_end_ack
            else None
        )
        try:
            await self._forward_until_lost(connection, confirmations)
        finally:
            # What was acknowledged or confirmed before the end still leaves the queue.
            await self._settle(connection, confirmations)

    async def _forward_until_lost(
        self, connection: MqttConnection, confirmations: Confirmations | None
    ) -> None:
        broker = self.broker
        now = asyncio.get_running_loop().time
        cursor = 0  # the last queue id sent on this connection
        while not connection.lost.is_set() and not self._stopping:
            self._wake.clear()
            await self._settle(connection, confirmations)
            space = broker.inflight - len(connection.inflight)
            if confirmations is not None and space > 0:
                space -= await self._resend_due(connection, confirmations, space)
                space = min(space, confirmations.room)
            if space > 0:
                rows = await self.queue.peek(
                    after_id=cursor, limit=space, devices=self.spec.devices, exclude=self.spec.exclude
                )
                if confirmations is not None:
                    await self._subscribe_acks(connection, rows)
                for row in rows:
                    if connection.lost.is_set() or not self._publish(connection, row):
                        break
                    cursor = row.id
                    self.counters.sent += 1
                    if (
                        confirmations is not None
                        and row.seq is not None
                        and row.device_id in connection.ack_devices
                    ):
                        confirmations.sent(row.id, row.device_id, row.seq, now())
                if rows:
                    self.counters.changed()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MISC_INTERVAL_S):
                    await self._wake.wait()
            if not connection.lost.is_set():
                connection.client.loop_misc()

    def _publish(self, connection: MqttConnection, row: StoredMessage) -> bool:
        info = connection.client.publish(row.topic, row.payload, qos=1, retain=row.retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        connection.inflight[info.mid] = row.id
        return True

    async def _resend_due(self, connection: MqttConnection, confirmations: Confirmations, space: int) -> int:
        """Sends again what the platform has not confirmed in time; returns how many."""
        due = confirmations.due(asyncio.get_running_loop().time(), space)
        if not due:
            return 0
        rows = await self.queue.get(due)
        # Rows gone meanwhile (confirmed, or dropped by the disk budget) need nothing more.
        confirmations.forget(sorted(set(due) - {row.id for row in rows}))
        sent = 0
        for row in rows:
            if connection.lost.is_set() or not self._publish(connection, row):
                break
            sent += 1
        self.counters.resent += sent
        # Counted in the status line; a platform that does not confirm shows there as a growing "resent".
        logger.debug("edge link %s: %d message(s) not confirmed in time, sent again", self.spec.name, sent)
        return sent

    async def _subscribe_acks(self, connection: MqttConnection, rows: list[StoredMessage]) -> None:
        """Subscribes to the acknowledgements of the devices of `rows` not yet subscribed, before sending."""
        new = sorted(
            {row.device_id for row in rows if row.seq is not None}
            - connection.ack_devices
            - connection.ack_refused
        )
        for start in range(0, len(new), SUBSCRIBE_BATCH):
            devices = new[start : start + SUBSCRIBE_BATCH]
            codes = await connection.subscribe(
                [ack_topic(device) for device in devices], self.broker.connect_timeout_s
            )
            for device, code in zip(devices, codes, strict=False):
                if code < 0x80:
                    connection.ack_devices.add(device)
                    continue
                connection.ack_refused.add(device)
                logger.error(
                    "edge link %s: the broker refused the subscription to %s (code 0x%02x); this device's "
                    "messages leave the queue on the broker's PUBACK, not on the platform's acknowledgement: "
                    "let this identity subscribe to it",
                    self.spec.name,
                    ack_topic(device),
                    code,
                )

    async def _settle(self, connection: MqttConnection, confirmations: Confirmations | None) -> None:
        """Deletes what is done: confirmed by the platform, refused by the broker, or PUBACKed and not to be confirmed."""
        acked, connection.acked = connection.acked, []
        rejected, connection.rejected = connection.rejected, []
        confirmed, connection.confirmations = connection.confirmations, []
        if not acked and not rejected and not confirmed:
            return
        # A PUBACK ends a message's journey only when no confirmation is awaited for it.
        done = [queue_id for queue_id in acked if confirmations is None or queue_id not in confirmations]
        refused = [queue_id for queue_id, _ in rejected]
        if done or refused:
            await self.queue.delete([*done, *refused])
        if confirmed:
            removed = await self.queue.delete_seqs([(device, ack.seqs) for device, ack in confirmed])
            self.counters.confirmed += len(removed)
            if confirmations is not None:
                for device, ack in confirmed:
                    confirmations.confirm(device, ack)
        if confirmations is not None:
            confirmations.forget(refused)
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
