"""The MQTT 3.1.1 control packets the embedded broker and the readiness probe exchange."""

from __future__ import annotations

from dataclasses import dataclass

from devices.broker.framing import (
    BodyReader,
    MqttPacketError,
    PacketType,
    encode_binary,
    encode_string,
    frame,
)

# CONNACK return codes (spec 3.2.2.3) with the words an operator will recognise.
CONNACK_ACCEPTED = 0
CONNACK_BAD_PROTOCOL = 1
CONNACK_IDENTIFIER_REJECTED = 2
CONNACK_REASONS = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}
SUBACK_FAILURE = 0x80
# 3 is MQTT 3.1 ("MQIsdp"), 4 is MQTT 3.1.1; both share the packet layout we read.
SUPPORTED_PROTOCOL_LEVELS = {3, 4}

PINGRESP = frame(PacketType.PINGRESP)
DISCONNECT = frame(PacketType.DISCONNECT)


class UnsupportedProtocol(MqttPacketError):
    """A CONNECT for a protocol level we do not speak (MQTT 5 most often)."""


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class Connect:
    client_id: str
    clean_session: bool
    keepalive_s: int
    username: str | None
    password: bytes | None
    will: Will | None


@dataclass(frozen=True, slots=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool = False
    packet_id: int | None = None


def decode_connect(body: bytes) -> Connect:
    """Parses a CONNECT body; UnsupportedProtocol when the level is not 3.1 or 3.1.1."""
    fields = BodyReader(body)
    protocol_name = fields.string()
    level = fields.u8()
    if protocol_name not in ("MQTT", "MQIsdp") or level not in SUPPORTED_PROTOCOL_LEVELS:
        raise UnsupportedProtocol(f"protocol {protocol_name!r} level {level}")
    flags = fields.u8()
    if flags & 0x01:
        raise MqttPacketError("reserved CONNECT flag is set")
    keepalive_s = fields.u16()
    client_id = fields.string()
    will = None
    if flags & 0x04:
        will_topic = fields.string()
        will = Will(will_topic, fields.binary(), qos=(flags >> 3) & 0x03, retain=bool(flags & 0x20))
        if will.qos == 3:
            raise MqttPacketError("will with QoS 3")
    username = fields.string() if flags & 0x80 else None
    password = fields.binary() if flags & 0x40 else None
    return Connect(client_id, bool(flags & 0x02), keepalive_s, username, password, will)


def encode_connect(
    *, client_id: str, clean_session: bool, keepalive_s: int, username: str | None, password: str | None
) -> bytes:
    """A CONNECT without a will, as the readiness probe sends it."""
    flags = (0x02 if clean_session else 0) | (0x80 if username is not None else 0)
    flags |= 0x40 if password is not None else 0
    body = encode_string("MQTT") + bytes([4, flags]) + keepalive_s.to_bytes(2, "big")
    body += encode_string(client_id)
    if username is not None:
        body += encode_string(username)
    if password is not None:
        body += encode_binary(password.encode())
    return frame(PacketType.CONNECT, body)


def encode_connack(*, session_present: bool, return_code: int) -> bytes:
    return frame(PacketType.CONNACK, bytes([int(session_present), return_code]))


def decode_connack(body: bytes) -> tuple[bool, int]:
    """The session-present flag and the return code."""
    fields = BodyReader(body)
    return bool(fields.u8() & 0x01), fields.u8()


def decode_publish(flags: int, body: bytes) -> Publish:
    """Parses a PUBLISH; QoS 3 is a protocol error."""
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise MqttPacketError("PUBLISH with QoS 3")
    fields = BodyReader(body)
    topic = fields.string()
    packet_id = fields.u16() if qos else None
    return Publish(
        topic, fields.rest(), qos, retain=bool(flags & 0x01), dup=bool(flags & 0x08), packet_id=packet_id
    )


def encode_publish(message: Publish) -> bytes:
    flags = (0x08 if message.dup else 0) | (message.qos << 1) | (0x01 if message.retain else 0)
    body = encode_string(message.topic)
    if message.qos:
        if message.packet_id is None:
            raise ValueError("a QoS 1 or 2 PUBLISH needs a packet id")
        body += message.packet_id.to_bytes(2, "big")
    return frame(PacketType.PUBLISH, body + message.payload, flags=flags)


def decode_subscribe(body: bytes) -> tuple[int, list[tuple[str, int]]]:
    """The packet id and the (topic filter, requested QoS) pairs."""
    fields = BodyReader(body)
    packet_id = fields.u16()
    requests = []
    while not fields.exhausted:
        topic_filter = fields.string()
        requests.append((topic_filter, fields.u8()))
    if not requests:
        raise MqttPacketError("SUBSCRIBE without a topic filter")
    return packet_id, requests


def decode_unsubscribe(body: bytes) -> tuple[int, list[str]]:
    """The packet id and the topic filters to drop."""
    fields = BodyReader(body)
    packet_id = fields.u16()
    filters = []
    while not fields.exhausted:
        filters.append(fields.string())
    if not filters:
        raise MqttPacketError("UNSUBSCRIBE without a topic filter")
    return packet_id, filters


def decode_packet_id(body: bytes) -> int:
    """The packet id of PUBACK, PUBREL and the other two-byte acknowledgements."""
    return BodyReader(body).u16()


def encode_suback(packet_id: int, return_codes: list[int]) -> bytes:
    return frame(PacketType.SUBACK, packet_id.to_bytes(2, "big") + bytes(return_codes))


def encode_ack(packet_type: PacketType, packet_id: int) -> bytes:
    """PUBACK, PUBREC, PUBCOMP or UNSUBACK for a packet id."""
    return frame(packet_type, packet_id.to_bytes(2, "big"))
