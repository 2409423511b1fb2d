"""TLS to the broker (verified, mutual, refused with the wrong CA) and per-device credentials
under a broker ACL that lets each device publish only under its own id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.protocol import Reading, VitalsMessage
from edge.adapters import PushAdapter
from edge.forwarder import LinkSpec
from edge.mqtt_settings import TlsSettings
from tests.devices.private_mosquitto import PrivateMosquitto, private_mosquitto
from tests.edge.broker_configs import (
    READER,
    READER_PASSWORD,
    acl_config,
    make_ca,
    make_certificate,
    tls_config,
)
from tests.edge.conftest import GatewayFactory, broker_at, shared_link
from tests.edge.subscriber import GUARD_S, Subscriber

PASSWORDS = {"bed-1": "secret-1", "bed-2": "secret-2"}


def vitals(seq: int) -> VitalsMessage:
    return VitalsMessage(
        seq=seq, readings=[Reading(metric="spo2", value=97, unit="%", time=datetime.now(UTC))]
    )


@pytest.fixture
def tls_broker() -> Iterator[PrivateMosquitto]:
    with private_mosquitto(tls_config()) as running:
        yield running


@pytest.fixture
def mutual_tls_broker() -> Iterator[PrivateMosquitto]:
    with private_mosquitto(tls_config(require_client_certificate=True)) as running:
        yield running


@pytest.fixture
def acl_broker() -> Iterator[PrivateMosquitto]:
    with private_mosquitto(acl_config(PASSWORDS)) as running:
        yield running


async def test_the_gateway_forwards_over_verified_tls(
    tls_broker: PrivateMosquitto, make_gateway: GatewayFactory
) -> None:
    context = TlsSettings(ca_file=tls_broker.directory / "ca.pem").context()
    push = PushAdapter()
    gateway = make_gateway(
        broker_at(tls_broker.host, tls_broker.port, ssl_context=context), [shared_link("tls")], [push]
    )

    async with gateway:
        for seq in range(3):
            push.push("tls-device", vitals(seq))
        async with asyncio.timeout(GUARD_S):
            await gateway.counters.wait_until(lambda c: c.acked == 3)

    assert gateway.counters.connect_failures == 0
    assert gateway.counters.pending == 0


async def test_the_gateway_refuses_a_broker_its_ca_did_not_sign(
    tls_broker: PrivateMosquitto,
    make_gateway: GatewayFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stranger = make_ca(tmp_path, "stranger")
    context = TlsSettings(ca_file=stranger).context()
    push = PushAdapter()
    gateway = make_gateway(
        broker_at(tls_broker.host, tls_broker.port, ssl_context=context), [shared_link("wrong-ca")], [push]
    )

    with caplog.at_level(logging.WARNING, logger="edge.forwarder"):
        async with gateway:
            push.push("tls-device", vitals(0))
            async with asyncio.timeout(GUARD_S):
                await gateway.counters.wait_until(lambda c: c.connect_failures >= 2 and c.queued == 1)

    assert gateway.counters.sent == 0
    assert gateway.counters.pending == 1
    assert "CERTIFICATE_VERIFY_FAILED" in (gateway.links[0].last_error or "")
    assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)


async def test_a_client_certificate_is_presented_when_configured(
    mutual_tls_broker: PrivateMosquitto, make_gateway: GatewayFactory
) -> None:
    directory = mutual_tls_broker.directory
    cert, key = make_certificate(directory, "ca", "gateway", server=False)
    ca = directory / "ca.pem"
    without = make_gateway(
        broker_at(
            mutual_tls_broker.host, mutual_tls_broker.port, ssl_context=TlsSettings(ca_file=ca).context()
        ),
        [shared_link("no-cert")],
        [],
    )
    async with without:
        async with asyncio.timeout(GUARD_S):
            await without.counters.wait_until(lambda c: c.connect_failures >= 1)
    assert without.counters.links_connected == 0

    context = TlsSettings(ca_file=ca, cert_file=cert, key_file=key).context()
    push = PushAdapter()
    with_cert = make_gateway(
        broker_at(mutual_tls_broker.host, mutual_tls_broker.port, ssl_context=context),
        [shared_link("cert")],
        [push],
    )
    async with with_cert:
        push.push("mtls-device", vitals(0))
        async with asyncio.timeout(GUARD_S):
            await with_cert.counters.wait_until(lambda c: c.acked == 1)


def test_tls_insecure_is_off_unless_asked_for() -> None:
    assert TlsSettings().insecure is False
    assert TlsSettings().context().check_hostname is True
    assert TlsSettings(insecure=True).context().check_hostname is False


async def test_each_device_publishes_with_its_own_credentials_under_the_acl(
    acl_broker: PrivateMosquitto, make_gateway: GatewayFactory
) -> None:
    subscriber = Subscriber(
        acl_broker.host,
        acl_broker.port,
        "ownat/v1/devices/+/vitals",
        client_id="acl-reader",
        username=READER,
        password=READER_PASSWORD,
    )
    await subscriber.start()
    links = [
        LinkSpec(
            name=device, client_id=device, username=device, password=password, devices=frozenset({device})
        )
        for device, password in PASSWORDS.items()
    ]
    push = PushAdapter()
    gateway = make_gateway(broker_at(acl_broker.host, acl_broker.port), links, [push])
    try:
        async with gateway:
            for seq in range(3):
                for device in PASSWORDS:
                    push.push(device, vitals(seq))
            await subscriber.wait_until(lambda got: len(got) >= 6)
    finally:
        await subscriber.stop()

    assert gateway.counters.links_connected == 0
    assert sorted((d, m.seq) for d, m in subscriber.snapshot()) == [
        (d, s) for d in PASSWORDS for s in range(3)
    ]


async def test_a_wrong_password_is_refused_and_the_messages_wait(
    acl_broker: PrivateMosquitto, make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    link = LinkSpec(
        name="bed-1", client_id="bed-1", username="bed-1", password="wrong", devices=frozenset({"bed-1"})
    )
    push = PushAdapter()
    gateway = make_gateway(broker_at(acl_broker.host, acl_broker.port), [link], [push])

    with caplog.at_level(logging.WARNING, logger="edge.forwarder"):
        async with gateway:
            push.push("bed-1", vitals(0))
            async with asyncio.timeout(GUARD_S):
                await gateway.counters.wait_until(lambda c: c.connect_failures >= 1 and c.queued == 1)

    assert gateway.counters.pending == 1
    assert "refused the connection" in (gateway.links[0].last_error or "")


async def test_mqtt5_reports_a_publish_the_acl_forbids_and_it_is_dropped_with_an_error(
    acl_broker: PrivateMosquitto, make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # bed-1's account publishing for bed-2: the ACL refuses, and MQTT 5 says so in the PUBACK.
    link = LinkSpec(
        name="bed-1",
        client_id="bed-1",
        username="bed-1",
        password=PASSWORDS["bed-1"],
        devices=frozenset({"bed-2"}),
    )
    push = PushAdapter()
    gateway = make_gateway(broker_at(acl_broker.host, acl_broker.port, mqtt_version="5"), [link], [push])

    with caplog.at_level(logging.ERROR, logger="edge.forwarder"):
        async with gateway:
            push.push("bed-2", vitals(0))
            async with asyncio.timeout(GUARD_S):
                await gateway.counters.wait_until(lambda c: c.rejected == 1)

    assert gateway.counters.acked == 0
    assert gateway.counters.pending == 0
    assert any(
        "refused 1 message(s)" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records
    )
