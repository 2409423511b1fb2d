"""The embedded MQTT broker, driven by real paho-mqtt 2.x clients over TCP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.broker.embedded import EmbeddedBroker
from devices.broker.framing import PacketType, encode_string, frame
from tests.ports import free_port

GUARD_S = 5.0  # a guard against hanging, never a timing assertion

ClientFactory = Callable[..., Awaitable["PahoClient"]]


class PahoClient:
    """A paho client on its own network thread; its callbacks are handed to the test's event loop."""

    def __init__(
        self, port: int, *, client_id: str, clean_session: bool = True, manual_ack: bool = False
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._port = port
        self._acks: dict[int, asyncio.Future[None]] = {}
        self.messages: asyncio.Queue[mqtt.MQTTMessage] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.session_present = False
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            reconnect_on_failure=False,
            manual_ack=manual_ack,
        )
        self.paho.on_connect = self._on_connect
        self.paho.on_disconnect = lambda *_: self._in_loop(self.disconnected.set)
        self.paho.on_message = lambda _client, _data, message: self._in_loop(
            self.messages.put_nowait, message
        )
        self.paho.on_subscribe = lambda _client, _data, mid, *_: self._in_loop(self._acked, mid)
        self.paho.on_publish = lambda _client, _data, mid, *_: self._in_loop(self._acked, mid)

    async def connect(self) -> None:
        self.paho.connect_async("127.0.0.1", self._port, keepalive=30)
        self.paho.loop_start()
        async with asyncio.timeout(GUARD_S):
            await self.connected.wait()

    async def close(self) -> None:
        self.paho.disconnect()
        # loop_stop() joins paho's thread: a blocking call, so it runs in a worker thread.
        await asyncio.to_thread(self.paho.loop_stop)

    async def subscribe(self, topic_filter: str, qos: int = 1) -> None:
        _, mid = self.paho.subscribe(topic_filter, qos)
        assert mid is not None, "paho refused the subscription"
        await self._until(self._ack_future(mid))

    def publish_nowait(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> asyncio.Future[None]:
        """Queues a publication in paho; the future resolves when the broker acknowledged it."""
        info = self.paho.publish(topic, payload, qos=qos, retain=retain)
        return self._ack_future(info.mid)

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        await self._until(self.publish_nowait(topic, payload, qos=qos, retain=retain))

    async def next_message(self) -> mqtt.MQTTMessage:
        async with asyncio.timeout(GUARD_S):
            return await self.messages.get()

    def _on_connect(self, _client: mqtt.Client, _data: Any, flags: Any, reason: Any, _props: Any) -> None:
        if not reason.is_failure:
            self._in_loop(self._connected, flags.session_present)

    def _connected(self, session_present: bool) -> None:
        self.session_present = session_present
        self.connected.set()

    def _in_loop(self, callback: Callable[..., None], *args: Any) -> None:
        self._loop.call_soon_threadsafe(callback, *args)

    def _ack_future(self, mid: int) -> asyncio.Future[None]:
        return self._acks.setdefault(mid, self._loop.create_future())

    def _acked(self, mid: int) -> None:
        # Kept once resolved, so the outcome holds whichever of ack and registration comes first.
        future = self._ack_future(mid)
        if not future.done():
            future.set_result(None)

    @staticmethod
    async def _until(future: asyncio.Future[None]) -> None:
        async with asyncio.timeout(GUARD_S):
            await future


@pytest.fixture
async def broker() -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker("127.0.0.1", free_port()) as running:
        yield running


@pytest.fixture
async def clients(broker: EmbeddedBroker) -> AsyncIterator[ClientFactory]:
    """Connects paho clients to the broker and closes them all at the end of the test."""
    opened: list[PahoClient] = []

    async def connect(client_id: str, **options: Any) -> PahoClient:
        client = PahoClient(broker.port, client_id=client_id, **options)
        opened.append(client)
        await client.connect()
        return client

    yield connect
    for client in opened:
        await client.close()


async def messages_until(client: PahoClient, last_topic: str) -> list[mqtt.MQTTMessage]:
    """Messages received up to, not including, the first one on `last_topic`."""
    received = []
    while (message := await client.next_message()).topic != last_topic:
        received.append(message)
    return received


async def test_qos1_round_trip_of_100_messages_keeps_their_order(clients: ClientFactory) -> None:
    topic = "ownat/v1/devices/monitor-1/vitals"
    subscriber = await clients("nurse-station")
    publisher = await clients("monitor-1")
    await subscriber.subscribe(topic, qos=1)

    acks = [publisher.publish_nowait(topic, f"reading-{n}".encode(), qos=1) for n in range(100)]
    async with asyncio.timeout(GUARD_S):
        await asyncio.gather(*acks)
    received = [await subscriber.next_message() for _ in range(100)]

    assert [m.payload for m in received] == [f"reading-{n}".encode() for n in range(100)]
    assert {(m.topic, m.qos, m.retain) for m in received} == {(topic, 1, False)}


async def test_wildcard_subscriptions_select_matching_topics_once(clients: ClientFactory) -> None:
    subscriber = await clients("dashboard")
    publisher = await clients("gateway")
    await subscriber.subscribe("ownat/v1/devices/+/vitals")
    await subscriber.subscribe("ownat/v1/devices/pump-2/#")

    topics = [
        "ownat/v1/devices/monitor-1/vitals",
        "ownat/v1/devices/monitor-1/status",
        "ownat/v1/devices/pump-2/status",
        "ownat/v1/devices/pump-2/events/occlusion",
        "ownat/v1/devices/pump-2/vitals",  # matches both filters, arrives once
        "ownat/v1/devices/monitor-1/vitals/extra",
        "elsewhere/v1/devices/monitor-1/vitals",
        "ownat/v1/devices/done/vitals",
    ]
    for topic in topics:
        await publisher.publish(topic, b"{}")
    received = await messages_until(subscriber, "ownat/v1/devices/done/vitals")

    assert [m.topic for m in received] == [
        "ownat/v1/devices/monitor-1/vitals",
        "ownat/v1/devices/pump-2/status",
        "ownat/v1/devices/pump-2/events/occlusion",
        "ownat/v1/devices/pump-2/vitals",
    ]


async def test_retained_message_reaches_a_late_subscriber(clients: ClientFactory) -> None:
    topic = "ownat/v1/devices/monitor-1/status"
    publisher = await clients("monitor-1")
    await publisher.publish(topic, b'{"online": true}', retain=True)

    late = await clients("late-dashboard")
    await late.subscribe("ownat/v1/devices/+/status")
    retained = await late.next_message()
    await publisher.publish(topic, b'{"online": true, "battery": 80}', retain=True)
    live = await late.next_message()

    assert (retained.topic, retained.payload, retained.retain) == (topic, b'{"online": true}', True)
    # An established subscriber sees the retain flag cleared (MQTT 3.1.1, 3.3.1.3).
    assert (live.payload, live.retain) == (b'{"online": true, "battery": 80}', False)


async def test_empty_retained_message_clears_the_retained_one(clients: ClientFactory) -> None:
    topic = "ownat/v1/devices/pump-9/status"
    publisher = await clients("pump-9")
    await publisher.publish(topic, b'{"online": true}', retain=True)
    await publisher.publish(topic, b"", retain=True)

    late = await clients("late-dashboard")
    await late.subscribe(topic)
    await publisher.publish(topic, b"live")

    assert (await late.next_message()).payload == b"live"


async def test_persistent_session_gets_unacknowledged_and_missed_messages(clients: ClientFactory) -> None:
    """The ingest pattern: acknowledge after commit, so a crash before the ack means a redelivery."""
    topic = "ownat/v1/devices/monitor-1/vitals"
    publisher = await clients("monitor-1")
    ingest = await clients("ingest-1", clean_session=False, manual_ack=True)
    await ingest.subscribe("ownat/v1/devices/+/vitals")
    await publisher.publish(topic, b"first")
    first = await ingest.next_message()
    await ingest.close()  # leaves without acknowledging "first"
    await publisher.publish(topic, b"second")  # published while ingest is away

    again = await clients("ingest-1", clean_session=False, manual_ack=True)
    redelivered = [await again.next_message() for _ in range(2)]

    assert (first.payload, first.dup) == (b"first", False)
    assert again.session_present
    assert [(m.payload, m.dup) for m in redelivered] == [(b"first", True), (b"second", False)]


async def test_shared_subscription_hands_each_message_to_one_member(clients: ClientFactory) -> None:
    publisher = await clients("gateway")
    workers = [await clients(f"ingest-{n}") for n in range(2)]
    for worker in workers:
        await worker.subscribe("$share/ingest/ownat/v1/devices/+/vitals")
        await worker.subscribe("test/done")

    for n in range(10):
        await publisher.publish(f"ownat/v1/devices/monitor-{n}/vitals", str(n).encode())
    await publisher.publish("test/done", b"")
    shares = [[m.payload for m in await messages_until(worker, "test/done")] for worker in workers]

    assert sorted(shares[0] + shares[1]) == sorted(str(n).encode() for n in range(10))
    assert all(shares)


async def test_takeover_closes_the_old_connection_which_leaves_its_will(
    broker: EmbeddedBroker, clients: ClientFactory
) -> None:
    topic = "ownat/v1/devices/monitor-1/status"
    dashboard = await clients("dashboard")
    await dashboard.subscribe(topic)
    first = PahoClient(broker.port, client_id="monitor-1")
    first.paho.will_set(topic, b'{"online": false}', qos=1, retain=True)
    try:
        await first.connect()
        await clients("monitor-1")  # the same client id connects again
        async with asyncio.timeout(GUARD_S):
            await first.disconnected.wait()
        will = await dashboard.next_message()
    finally:
        await first.close()
    late = await clients("late-dashboard")
    await late.subscribe(topic)

    assert (will.payload, will.retain) == (b'{"online": false}', False)
    assert ((retained := await late.next_message()).payload, retained.retain) == (b'{"online": false}', True)


async def test_a_first_packet_other_than_connect_closes_the_connection(broker: EmbeddedBroker) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    try:
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        async with asyncio.timeout(GUARD_S):
            answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()

    assert answer == b""


async def test_mqtt5_connect_is_refused_with_a_connack(broker: EmbeddedBroker) -> None:
    connect_v5 = encode_string("MQTT") + bytes([5, 0x02]) + (30).to_bytes(2, "big") + b"\x00"
    connect_v5 += encode_string("v5-client")
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    try:
        writer.write(frame(PacketType.CONNECT, connect_v5))
        async with asyncio.timeout(GUARD_S):
            answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()

    assert answer == bytes([0x20, 2, 0, 1])  # CONNACK: unacceptable protocol version, then close


async def test_stop_closes_client_connections_and_frees_the_port(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    tasks_before = asyncio.all_tasks()
    broker = EmbeddedBroker("127.0.0.1", port)
    await broker.start()
    client = PahoClient(port, client_id="bedside")
    try:
        await client.connect()
        await client.subscribe("ownat/#")
        await broker.stop()
        left_behind = asyncio.all_tasks() - tasks_before
        async with asyncio.timeout(GUARD_S):
            await client.disconnected.wait()
    finally:
        await client.close()
        await broker.stop()

    assert left_behind == set()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    async with EmbeddedBroker("127.0.0.1", port):
        reconnected = PahoClient(port, client_id="bedside")
        try:
            await reconnected.connect()
        finally:
            await reconnected.close()


def test_refuses_to_listen_beyond_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmbeddedBroker("0.0.0.0", 18830)  # noqa: S104 - the address under test
