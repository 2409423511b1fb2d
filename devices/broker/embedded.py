"""The MQTT broker of the embedded mode (`ownat dev`, tests): MQTT 3.1.1 inside the running event loop.

Why our own broker and not amqtt: amqtt 0.12.1 starts inside an existing loop, speaks 3.1.1 to
paho-mqtt 2.x, delivers QoS 1 and retained messages and stops without leaking tasks, but it loses
the QoS 1 message a persistent-session subscriber received and had not acknowledged when that
subscriber's connection drops; Mosquitto sends it again with DUP set. Our ingest acknowledges a
reading only after it is committed, so that loss breaks the at-least-once delivery the
architecture promises. amqtt also ignores persistent sessions of anonymous clients, has no
`$share/` subscriptions (our ingest workers share one), logs an ERROR and leaks the server-side
socket for every connection that closes before CONNECT (a TCP health check), and never answers
an MQTT 5 CONNECT with a CONNACK. What we need is small, so we keep it here, in a few modules:

- `framing`, `packets`: the MQTT 3.1.1 codec (shared with the readiness probe);
- `topics`: topic filters with `+` and `#`, and `$share/{group}/{filter}`;
- `sessions`: per client id state, QoS 1 in-flight window and queue, redelivery on reconnect;
- `router`: sessions, retained messages, routing; `connection`: one client's packets.

It implements CONNECT/CONNACK (clean and persistent sessions, wills), PUBLISH at QoS 0 and 1
(QoS 2 accepted inbound, forwarded at QoS 1), SUBSCRIBE/SUBACK, UNSUBSCRIBE, PINGREQ, DISCONNECT,
retained messages and shared subscriptions. It keeps everything in memory, checks no credentials
and applies no ACL, so it refuses to listen anywhere but on a loopback address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from functools import partial
from types import TracebackType

from devices.broker.connection import ClientConnection
from devices.broker.router import MessageRouter

logger = logging.getLogger(__name__)


class EmbeddedBroker:
    """An in-process MQTT 3.1.1 broker listening on one loopback host and port."""

    def __init__(self, host: str, port: int) -> None:
        if not _is_loopback(host):
            raise ValueError(
                f"the embedded MQTT broker accepts anyone without credentials, so it only listens on "
                f"loopback, not {host!r}; set OWNAT_MQTT_URL to a real broker instead"
            )
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._router: MessageRouter | None = None
        # The task asyncio runs for each accepted socket -> the task serving that connection.
        self._connections: dict[asyncio.Task[None], asyncio.Task[None]] = {}

    @property
    def url(self) -> str:
        """The `mqtt://` URL clients use to reach this broker."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    async def start(self) -> None:
        """Starts listening; with port 0 the system picks a free port, which `port` then tells."""
        if self._server is not None:
            raise RuntimeError("the embedded MQTT broker is already running")
        router = MessageRouter()
        self._server = await asyncio.start_server(partial(self._serve, router), self.host, self.port)
        self._router = router
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("embedded MQTT broker listening", extra={"url": self.url})

    async def stop(self) -> None:
        """Stops listening, closes every client connection and forgets all sessions."""
        server, self._server, self._router = self._server, None, None
        if server is None:
            return
        server.close()
        # Before 3.12 wait_closed() does not wait for accepted connections, so we end them ourselves.
        for connection in self._connections.values():
            connection.cancel()
        await asyncio.gather(*self._connections, *self._connections.values(), return_exceptions=True)
        await server.wait_closed()
        logger.info("embedded MQTT broker stopped", extra={"url": self.url})

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _serve(
        self, router: MessageRouter, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # A connection accepted just as stop() ran belongs to a broker that is gone.
        handler = asyncio.current_task()
        if router is not self._router or handler is None:
            writer.close()
            return
        # stop() cancels a task of our own: Python 3.11 logs an error when the task asyncio started
        # for this callback ends cancelled, so that one only waits and always ends normally.
        connection = asyncio.create_task(ClientConnection(reader, writer, router).run())
        self._connections[handler] = connection
        try:
            await asyncio.wait([connection])
        finally:
            del self._connections[handler]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
