"""One client's network connection to the embedded broker: the CONNECT handshake, then its packets."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from devices.broker.framing import MqttPacketError, Packet, PacketType, read_packet
from devices.broker.packets import (
    CONNACK_ACCEPTED,
    CONNACK_BAD_PROTOCOL,
    CONNACK_IDENTIFIER_REJECTED,
    PINGRESP,
    Connect,
    UnsupportedProtocol,
    decode_connect,
    decode_packet_id,
    decode_publish,
    decode_subscribe,
    decode_unsubscribe,
    encode_ack,
    encode_connack,
    encode_suback,
)
from devices.broker.router import MessageRouter
from devices.broker.sessions import Message, Session
from devices.broker.topics import is_valid_topic_name

logger = logging.getLogger(__name__)

# A socket that has not sent its CONNECT by then is not an MQTT client worth waiting for.
CONNECT_TIMEOUT_S = 10.0
# Device batches are small JSON documents; this bounds what one packet can make us hold in memory.
MAX_PACKET_BYTES = 1 << 20


class ClientConnection:
    """Serves one accepted socket until the client leaves, breaks the protocol, or the broker stops."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, router: MessageRouter
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._router = router
        self._peer = writer.get_extra_info("peername")
        self._said_goodbye = False

    async def run(self) -> None:
        """Handles the connection and always closes the socket."""
        try:
            connect = await self._handshake()
            if connect is not None:
                await self._serve(connect)
        except MqttPacketError as error:
            logger.warning("closing MQTT connection: %s", error, extra={"peer": str(self._peer)})
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError) as error:
            logger.debug("MQTT connection lost: %r", error, extra={"peer": str(self._peer)})
        finally:
            self._writer.close()
            with suppress(ConnectionError):
                await self._writer.wait_closed()

    async def _handshake(self) -> Connect | None:
        """Reads the CONNECT; None when the socket closed or the client was refused a session."""
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            packet = await read_packet(self._reader, max_bytes=MAX_PACKET_BYTES, expect=PacketType.CONNECT)
        if packet is None:
            return None
        try:
            connect = decode_connect(packet.body)
        except UnsupportedProtocol as error:
            logger.info("refusing MQTT client: %s", error, extra={"peer": str(self._peer)})
            await self._refuse(CONNACK_BAD_PROTOCOL)
            return None
        if connect.will is not None and not is_valid_topic_name(connect.will.topic):
            raise MqttPacketError(f"cannot leave a will on {connect.will.topic!r}")
        # Without an id the broker cannot find the session again, so only a clean one is allowed.
        if not connect.client_id and not connect.clean_session:
            await self._refuse(CONNACK_IDENTIFIER_REJECTED)
            return None
        return connect

    async def _refuse(self, return_code: int) -> None:
        self._writer.write(encode_connack(session_present=False, return_code=return_code))
        await self._writer.drain()

    async def _serve(self, connect: Connect) -> None:
        session, present = self._router.open_session(connect.client_id, clean=connect.clean_session)
        self._writer.write(encode_connack(session_present=present, return_code=CONNACK_ACCEPTED))
        session.attach(self._writer)
        logger.debug("MQTT client connected", extra={"client_id": session.client_id, "peer": str(self._peer)})
        # The client must send something within one and a half keep-alive periods (spec 3.1.2.10).
        idle_s = connect.keepalive_s * 1.5 if connect.keepalive_s else None
        try:
            while True:
                async with asyncio.timeout(idle_s):
                    packet = await read_packet(self._reader, max_bytes=MAX_PACKET_BYTES)
                if packet is None:
                    return
                if packet.type is PacketType.DISCONNECT:
                    self._said_goodbye = True
                    return
                self._handle(session, packet)
                await self._writer.drain()
        finally:
            session.detach(self._writer)
            self._router.close_session(session)
            task = asyncio.current_task()
            # A will is for a client that vanished, not for one that said goodbye or a broker shutting down.
            stopping = task is not None and task.cancelling() > 0
            if connect.will is not None and not self._said_goodbye and not stopping:
                will = connect.will
                self._router.publish(Message(will.topic, will.payload, will.qos, will.retain))

    def _handle(self, session: Session, packet: Packet) -> None:
        match packet.type:
            case PacketType.PUBLISH:
                self._on_publish(session, packet)
            case PacketType.PUBACK:
                session.acknowledge(decode_packet_id(packet.body))
            case PacketType.PUBREL:
                packet_id = decode_packet_id(packet.body)
                session.pending_releases.discard(packet_id)
                self._writer.write(encode_ack(PacketType.PUBCOMP, packet_id))
            case PacketType.SUBSCRIBE:
                packet_id, requests = decode_subscribe(packet.body)
                codes = [self._router.subscribe(session, topic_filter, qos) for topic_filter, qos in requests]
                self._writer.write(encode_suback(packet_id, codes))
                for topic_filter, _ in requests:
                    self._router.send_retained(session, topic_filter)
            case PacketType.UNSUBSCRIBE:
                packet_id, filters = decode_unsubscribe(packet.body)
                for topic_filter in filters:
                    self._router.unsubscribe(session, topic_filter)
                self._writer.write(encode_ack(PacketType.UNSUBACK, packet_id))
            case PacketType.PINGREQ:
                self._writer.write(PINGRESP)
            case _:
                raise MqttPacketError(f"unexpected {packet.type.name} from a client")

    def _on_publish(self, session: Session, packet: Packet) -> None:
        publish = decode_publish(packet.flags, packet.body)
        if not is_valid_topic_name(publish.topic):
            raise MqttPacketError(f"cannot publish to {publish.topic!r}")
        message = Message(publish.topic, publish.payload, publish.qos, publish.retain)
        if publish.packet_id is None:
            self._router.publish(message)
        elif publish.qos == 1:
            # Routed means queued for every subscriber, so the broker now owns the message.
            self._router.publish(message)
            self._writer.write(encode_ack(PacketType.PUBACK, publish.packet_id))
        else:
            # QoS 2 inbound: route once per packet id, forward at QoS 1 at most (spec 4.3.3, method B).
            if publish.packet_id not in session.pending_releases:
                session.pending_releases.add(publish.packet_id)
                self._router.publish(message)
            self._writer.write(encode_ack(PacketType.PUBREC, publish.packet_id))
