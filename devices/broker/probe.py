"""Readiness probe: does the MQTT broker named by a URL accept a real MQTT 3.1.1 CONNECT?

Plain asyncio streams, no paho, so that /readyz can await it on the event loop.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from contextlib import suppress

from devices.broker.framing import MqttPacketError, PacketType, read_packet
from devices.broker.packets import CONNACK_REASONS, DISCONNECT, decode_connack, encode_connect
from devices.protocol import MqttAddress, parse_mqtt_url

# The probe disconnects at once; the keep-alive only has to outlast the handshake.
PROBE_KEEPALIVE_S = 30


class BrokerUnreachable(Exception):
    """The broker could not be reached, did not answer as MQTT, or refused the connection."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"MQTT broker {address}: {reason}")
        self.address = address
        self.reason = reason


async def probe_broker(url: str, *, timeout_s: float = 2.0) -> None:
    """Connects, sends CONNECT, waits for an accepting CONNACK, disconnects; raises BrokerUnreachable."""
    address = parse_mqtt_url(url)
    where = address.host_port
    try:
        async with asyncio.timeout(timeout_s):
            await _handshake(address)
    # TimeoutError and the SSL errors are OSErrors too, so they come first.
    except TimeoutError as error:
        raise BrokerUnreachable(where, f"no answer within {timeout_s:g} s") from error
    except ssl.SSLError as error:
        raise BrokerUnreachable(where, f"TLS failed: {error}") from error
    except ConnectionRefusedError as error:
        raise BrokerUnreachable(where, "connection refused") from error
    except OSError as error:
        raise BrokerUnreachable(where, error.strerror or repr(error)) from error
    except asyncio.IncompleteReadError as error:
        raise BrokerUnreachable(where, "connection closed in the middle of a packet") from error
    except MqttPacketError as error:
        raise BrokerUnreachable(where, f"not an MQTT answer: {error}") from error


async def _handshake(address: MqttAddress) -> None:
    ssl_context = ssl.create_default_context() if address.tls else None
    reader, writer = await asyncio.open_connection(address.host, address.port, ssl=ssl_context)
    try:
        writer.write(
            encode_connect(
                client_id=f"ownat-probe-{secrets.token_hex(6)}",
                clean_session=True,
                keepalive_s=PROBE_KEEPALIVE_S,
                username=address.username,
                password=address.password,
            )
        )
        await writer.drain()
        packet = await read_packet(reader, max_bytes=2, expect=PacketType.CONNACK)
        if packet is None:
            raise BrokerUnreachable(address.host_port, "connection closed before CONNACK")
        _, return_code = decode_connack(packet.body)
        if return_code:
            reason = CONNACK_REASONS.get(return_code, "refused")
            raise BrokerUnreachable(address.host_port, f"{reason} (CONNACK return code {return_code})")
        writer.write(DISCONNECT)
        await writer.drain()
    finally:
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
