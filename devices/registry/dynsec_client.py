"""Sending commands to Mosquitto's dynamic security plugin over its MQTT control topic.

One short connection per batch of commands: administration is rare (a provisioning, a revocation,
a periodic sync), and a fresh connection needs no reconnect logic and holds nothing between uses.
paho's client is blocking, so each exchange runs in a worker thread on purpose.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.protocol import MqttAddress
from devices.registry.dynsec import CONTROL_TOPIC, RESPONSE_TOPIC, Command

DEFAULT_TIMEOUT_S = 10.0
KEEPALIVE_S = 30
# The plugin answers a batch in one message; batches keep a sync of thousands of devices reasonable.
MAX_BATCH = 200


class BrokerAdminError(Exception):
    """The broker could not be reached, refused the admin account, or did not answer in time."""


class DynsecClient:
    """Runs dynamic security commands against one broker, as its admin account."""

    def __init__(self, address: MqttAddress, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.address = address
        self.timeout_s = timeout_s

    async def execute(self, commands: list[Command]) -> list[dict[str, Any]]:
        """Each command's response (`error` set on failure), in order; BrokerAdminError if none came."""
        responses: list[dict[str, Any]] = []
        for start in range(0, len(commands), MAX_BATCH):
            batch = commands[start : start + MAX_BATCH]
            responses += await asyncio.to_thread(_exchange, self.address, batch, self.timeout_s)
        return responses


def _exchange(address: MqttAddress, commands: list[Command], timeout_s: float) -> list[dict[str, Any]]:
    tag = secrets.token_hex(8)
    tagged = [{**command, "correlationData": f"{tag}:{index}"} for index, command in enumerate(commands)]
    exchange = _Exchange(tag, len(commands))
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"ownat-admin-{tag}", reconnect_on_failure=False
    )
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set_context(ssl.create_default_context())
    payload = json.dumps({"commands": tagged})
    client.on_connect = lambda c, _u, _f, reason, _p: exchange.connected(c, reason)
    client.on_subscribe = lambda c, _u, _m, reasons, _p: exchange.subscribed(c, reasons, payload)
    client.on_message = lambda _c, _u, message: exchange.received(message.payload)
    client.on_disconnect = lambda _c, _u, _f, reason, _p: exchange.fail(f"disconnected ({reason})")
    try:
        client.connect(address.host, address.port, keepalive=KEEPALIVE_S)
    except OSError as error:
        raise BrokerAdminError(f"cannot reach the broker at {address.host_port}: {error}") from error
    client.loop_start()
    try:
        if not exchange.done.wait(timeout_s):
            raise BrokerAdminError(f"the broker at {address.host_port} did not answer within {timeout_s:g} s")
    finally:
        client.disconnect()
        client.loop_stop()
    if exchange.failure is not None:
        raise BrokerAdminError(f"the broker at {address.host_port}: {exchange.failure}")
    return [exchange.responses[index] for index in range(len(commands))]


class _Exchange:
    """The state of one command batch, fed by paho's network thread."""

    def __init__(self, tag: str, expected: int) -> None:
        self.tag = tag
        self.expected = expected
        self.responses: dict[int, dict[str, Any]] = {}
        self.failure: str | None = None
        self.done = threading.Event()

    def connected(self, client: mqtt.Client, reason: Any) -> None:
        if reason.is_failure:
            self.fail(f"refused the admin account ({reason})")
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def subscribed(self, client: mqtt.Client, reasons: list[Any], payload: str) -> None:
        if any(reason.is_failure for reason in reasons):
            self.fail("refused the admin account's subscription to the control responses")
            return
        client.publish(CONTROL_TOPIC, payload, qos=1)

    def received(self, payload: bytes | bytearray) -> None:
        try:
            answers = json.loads(payload).get("responses", [])
        except (ValueError, AttributeError):
            return  # not a plugin answer; other admins share the topic
        for answer in answers:
            tag, _, index = str(answer.get("correlationData", "")).partition(":")
            if tag == self.tag and index.isdigit():
                self.responses[int(index)] = answer
        if len(self.responses) == self.expected:
            self.done.set()

    def fail(self, reason: str) -> None:
        if not self.done.is_set():
            self.failure = reason
            self.done.set()


async def accepts_login(address: MqttAddress, username: str, password: str, *, timeout_s: float) -> bool:
    """Whether the broker at `address` accepts this username and password (a real CONNECT, then gone)."""
    return await asyncio.to_thread(_try_login, address, username, password, timeout_s)


def _try_login(address: MqttAddress, username: str, password: str, timeout_s: float) -> bool:
    answered = threading.Event()
    accepted: list[bool] = []
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"ownat-check-{secrets.token_hex(6)}",
        reconnect_on_failure=False,
    )
    client.username_pw_set(username, password)
    if address.tls:
        client.tls_set_context(ssl.create_default_context())

    def connected(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        accepted.append(not reason.is_failure)
        answered.set()

    client.on_connect = connected
    try:
        client.connect(address.host, address.port, keepalive=KEEPALIVE_S)
    except OSError as error:
        raise BrokerAdminError(f"cannot reach the broker at {address.host_port}: {error}") from error
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            raise BrokerAdminError(f"the broker at {address.host_port} did not answer within {timeout_s:g} s")
    finally:
        client.disconnect()
        client.loop_stop()
    return accepted[0]
