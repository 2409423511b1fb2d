"""The readiness probe against real brokers and against sockets that misbehave."""

from __future__ import annotations

import asyncio

import pytest

from devices.broker.embedded import EmbeddedBroker
from devices.broker.framing import read_packet
from devices.broker.packets import Connect, decode_connect, encode_connack
from devices.broker.probe import BrokerUnreachable, probe_broker
from devices.protocol import MqttAddress, parse_mqtt_url
from tests.devices.test_embedded_broker import GUARD_S, free_port


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("mqtt://127.0.0.1", MqttAddress("127.0.0.1", 1883, None, None, tls=False)),
        ("mqtt://broker:1884", MqttAddress("broker", 1884, None, None, tls=False)),
        ("mqtts://ingest:p%40ss@broker", MqttAddress("broker", 8883, "ingest", "p@ss", tls=True)),
        ("mqtt://device-7@[::1]:18830", MqttAddress("::1", 18830, "device-7", None, tls=False)),
    ],
)
def test_parse_mqtt_url(url: str, address: MqttAddress) -> None:
    assert parse_mqtt_url(url) == address


@pytest.mark.parametrize("url", ["http://broker:1883", "broker:1883", "mqtt://", "mqtt://broker:99999"])
def test_parse_mqtt_url_refuses_what_is_not_one(url: str) -> None:
    with pytest.raises(ValueError):
        parse_mqtt_url(url)


async def test_probe_accepts_the_real_mosquitto(mqtt_url: str) -> None:
    await probe_broker(mqtt_url)


async def test_probe_accepts_the_embedded_broker() -> None:
    async with EmbeddedBroker("127.0.0.1", free_port()) as broker:
        await probe_broker(broker.url)


async def test_probe_reports_a_closed_port() -> None:
    port = free_port()
    with pytest.raises(BrokerUnreachable) as caught:
        await probe_broker(f"mqtt://127.0.0.1:{port}")

    assert str(caught.value) == f"MQTT broker 127.0.0.1:{port}: connection refused"


async def test_probe_times_out_on_a_server_that_never_answers() -> None:
    hung_up = asyncio.Event()

    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the probe gives up and closes
        writer.close()
        hung_up.set()

    async with await asyncio.start_server(say_nothing, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(BrokerUnreachable) as caught:
            await probe_broker(f"mqtt://127.0.0.1:{port}", timeout_s=0.2)
        async with asyncio.timeout(GUARD_S):
            await hung_up.wait()

    assert str(caught.value) == f"MQTT broker 127.0.0.1:{port}: no answer within 0.2 s"


async def test_probe_sends_credentials_and_reports_a_refusal() -> None:
    received: list[Connect] = []
    hung_up = asyncio.Event()

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        packet = await read_packet(reader, max_bytes=1024)
        assert packet is not None
        received.append(decode_connect(packet.body))
        writer.write(encode_connack(session_present=False, return_code=5))
        await reader.read()
        writer.close()
        hung_up.set()

    async with await asyncio.start_server(refuse, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(BrokerUnreachable) as caught:
            await probe_broker(f"mqtt://nurse:s%3Acret@127.0.0.1:{port}")
        async with asyncio.timeout(GUARD_S):
            await hung_up.wait()

    assert str(caught.value) == (f"MQTT broker 127.0.0.1:{port}: not authorised (CONNACK return code 5)")
    [connect] = received
    assert (connect.username, connect.password, connect.clean_session) == ("nurse", b"s:cret", True)
    assert connect.client_id.startswith("ownat-probe-") and connect.will is None
