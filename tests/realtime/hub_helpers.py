"""Test support for the WebSocket hub: a real uvicorn server on a loopback port and a real client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from api import ws
from api.app import create_app
from core.bus import Bus
from core.identity.models import User
from core.identity.tokens import issue_access_token
from core.sessions import transaction
from core.settings import Settings
from devices.vitals.models import VitalReading
from realtime.hub import Hub, HubTuning

# Generous: how long a test waits for something that should arrive at once (not a timing assertion).
RECEIVE_TIMEOUT_S = 10.0
HEART_RATE = "8867-4"
# Tokens that expire in a few seconds (the settings refuse less than a minute; tests may): long
# enough for a busy machine to sign in and renew before, short enough to keep the tests quick.
SHORT_TTL_S = 4


@dataclass
class RunningHub:
    url: str
    app: FastAPI

    @property
    def hub(self) -> Hub:
        return self.app.state.hub

    @property
    def bus(self) -> Bus:
        return self.app.state.resources.bus

    async def restart_hub(self, **tuning: Any) -> Hub:
        """A fresh hub with `tuning` on the running app (building an app takes most of a second)."""
        await ws.stop_hub(self.app)
        hub = await ws.start_hub(self.app, tuning=HubTuning(**tuning))
        await hub.listening.wait()
        return hub


@asynccontextmanager
async def serve_app(settings: Settings, *, send_buffer_bytes: int | None = None) -> AsyncIterator[RunningHub]:
    """Runs the app with the hub under uvicorn on a free loopback port, in this event loop.

    `send_buffer_bytes` fixes the kernel's send buffer of accepted sockets (Linux inherits it from
    the listener), so that a client that stops reading blocks the server's writes after kilobytes
    instead of the megabytes autotuning would allow.
    """
    app = create_app(settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if send_buffer_bytes is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
    listener.bind(("127.0.0.1", 0))
    # Listening before uvicorn starts: early clients wait in the backlog instead of being refused.
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio"))
    async with app.router.lifespan_context(app):
        await app.state.hub.listening.wait()
        task = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            yield RunningHub(url=f"ws://127.0.0.1:{port}/ws", app=app)
        finally:
            server.should_exit = True
            await task
    listener.close()


def short_lived(settings: Settings) -> Settings:
    """Settings whose access tokens expire after SHORT_TTL_S (for `token_for`)."""
    return settings.model_copy(update={"access_token_ttl_s": SHORT_TTL_S})


def token_for(user: User, settings: Settings) -> str:
    """A valid access token for the user, as login would issue."""
    token, _ = issue_access_token(user.as_principal(token_id=uuid.uuid4().hex), settings=settings)
    return token


class HubClient:
    """A WebSocket client speaking the hub's protocol."""

    def __init__(self, connection: ClientConnection) -> None:
        self.ws = connection

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout_s: float = RECEIVE_TIMEOUT_S) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            return json.loads(await self.ws.recv())

    async def receive_type(self, *types: str) -> dict[str, Any]:
        """The next message of one of `types`, answering pings on the way."""
        while True:
            message = await self.receive()
            if message["type"] in types:
                return message
            if message["type"] == "ping":
                await self.send(type="pong", seq=message["seq"])

    async def subscribe(self, scope: str, target: uuid.UUID | None) -> dict[str, Any]:
        """Subscribes and returns the answer (a snapshot or an error)."""
        await self.send(type="subscribe", scope=scope, id=None if target is None else str(target))
        return await self.receive_type("snapshot", "error")


@asynccontextmanager
async def hub_client(url: str, token: str | None, **options: Any) -> AsyncIterator[HubClient]:
    """A connected client, signed in with `token` (and its `ready` received) unless token is None."""
    async with connect(url, open_timeout=RECEIVE_TIMEOUT_S, **options) as connection:
        client = HubClient(connection)
        if token is not None:
            await client.send(type="auth", token=token)
            ready = await client.receive()
            assert ready["type"] == "ready", ready
        yield client


def vitals_message(
    *,
    device_id: str,
    patient_id: uuid.UUID,
    bed_id: uuid.UUID,
    ward_id: uuid.UUID,
    values: list[float],
    start: datetime,
) -> dict[str, Any]:
    """A bus message in the ingest worker's shape: one heart-rate reading per value, a second apart."""
    readings = [
        {
            "metric": HEART_RATE,
            "value": value,
            "unit": "/min",
            "time": (start + timedelta(seconds=n)).isoformat(),
        }
        for n, value in enumerate(values)
    ]
    return {
        "device_id": device_id,
        "patient_id": str(patient_id),
        "bed_id": str(bed_id),
        "ward_id": str(ward_id),
        "readings": readings,
    }


async def publish_vitals(bus: Bus, message: dict[str, Any]) -> None:
    """Publishes as the ingest worker does: on the patient's channel, and in a ward message."""
    await bus.publish(f"vitals.patient.{message['patient_id']}", message)
    ward_id = message["ward_id"]
    await bus.publish(f"vitals.ward.{ward_id}", {"ward_id": ward_id, "devices": [message]})


async def store_reading(
    sessions: async_sessionmaker[AsyncSession],
    *,
    patient_id: uuid.UUID,
    device_id: str,
    value: float,
    at: datetime,
) -> None:
    """A committed heart-rate reading, as if ingested."""
    async with transaction(sessions) as session:
        session.add(
            VitalReading(
                time=at,
                device_id=device_id,
                patient_id=patient_id,
                metric=HEART_RATE,
                value=value,
                unit="/min",
            )
        )


class SilentClient:
    """A WebSocket client written out by hand, so that it can stop reading entirely.

    Client libraries keep draining the socket into memory; this one reads only when asked, and its
    small receive buffer makes the server's writes block as soon as it stops.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, url: str) -> SilentClient:
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        status = await reader.readuntil(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 101"), status
        return cls(reader, writer)

    async def send(self, **message: Any) -> None:
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        length = (
            bytes([0x80 | len(data)])
            if len(data) < 126
            else bytes([0x80 | 126]) + struct.pack("!H", len(data))
        )
        self.writer.write(bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
        await self.writer.drain()

    async def receive(self) -> dict[str, Any]:
        """One text frame from the server (unmasked, unfragmented: what the hub sends)."""
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            head = await self.reader.readexactly(2)
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            return json.loads(await self.reader.readexactly(length))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
