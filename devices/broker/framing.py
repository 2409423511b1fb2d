"""MQTT 3.1.1 fixed header framing: reading whole packets from a stream and building them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import IntEnum


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


class MqttPacketError(Exception):
    """The peer sent a packet that is not valid MQTT 3.1.1, or one this broker refuses; the connection closes."""


@dataclass(frozen=True, slots=True)
class Packet:
    type: PacketType
    flags: int
    body: bytes


async def read_packet(
    reader: asyncio.StreamReader, *, max_bytes: int, expect: PacketType | None = None
) -> Packet | None:
    """Reads one whole packet; None when the peer closed the stream between packets.

    With `expect`, any other packet type fails at its first byte instead of after its body.
    """
    try:
        first = await reader.readexactly(1)
    except asyncio.IncompleteReadError:
        return None
    try:
        packet_type = PacketType(first[0] >> 4)
    except ValueError:
        raise MqttPacketError(f"unknown packet type {first[0] >> 4}") from None
    if expect is not None and packet_type is not expect:
        raise MqttPacketError(f"expected {expect.name}, got {packet_type.name}")
    length = 0
    # The remaining length is a base-128 varint of at most four bytes (spec 2.2.3).
    for shift in (0, 7, 14, 21):
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
    else:
        raise MqttPacketError("remaining length longer than four bytes")
    if length > max_bytes:
        raise MqttPacketError(f"packet of {length} bytes is over the {max_bytes} byte limit")
    body = await reader.readexactly(length)
    return Packet(packet_type, first[0] & 0x0F, body)


def frame(packet_type: PacketType, body: bytes = b"", *, flags: int = 0) -> bytes:
    """Prefixes a packet body with its fixed header."""
    header = bytearray([(packet_type << 4) | flags])
    length = len(body)
    while True:
        byte, length = length & 0x7F, length >> 7
        header.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(header) + body


def encode_binary(data: bytes) -> bytes:
    """Two-byte length prefix, as MQTT strings and binary fields are sent."""
    if len(data) > 0xFFFF:
        raise ValueError("MQTT strings are limited to 65535 bytes")
    return len(data).to_bytes(2, "big") + data


def encode_string(text: str) -> bytes:
    """UTF-8 with a two-byte length prefix."""
    return encode_binary(text.encode())


class BodyReader:
    """A cursor over a packet body that raises MqttPacketError instead of reading past its end."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._offset = 0

    def take(self, count: int) -> bytes:
        """The next `count` bytes."""
        end = self._offset + count
        if end > len(self._body):
            raise MqttPacketError("packet body is shorter than its fields")
        chunk = self._body[self._offset : end]
        self._offset = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def binary(self) -> bytes:
        return self.take(self.u16())

    def string(self) -> str:
        raw = self.binary()
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise MqttPacketError("string is not valid UTF-8") from None
        # The spec forbids U+0000 in every MQTT string (1.5.3).
        if "\x00" in text:
            raise MqttPacketError("string contains U+0000")
        return text

    def rest(self) -> bytes:
        """Everything not read yet."""
        chunk = self._body[self._offset :]
        self._offset = len(self._body)
        return chunk

    @property
    def exhausted(self) -> bool:
        return self._offset >= len(self._body)
