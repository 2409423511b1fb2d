"""Real servers on loopback for the channels' tests: a small HTTP/1.1 server and an SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, Envelope


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class HttpRecorder:
    """Answers every request with `status` (after `delay_s`: a slow receiver), or never answers
    (`mode="hang"`); records what it got, and how many it has answered."""

    mode: Literal["answer", "hang"] = "answer"
    status: int = 200
    delay_s: float = 0.0
    requests: list[HttpRequest] = field(default_factory=list)
    answered: int = 0
    connections: int = 0
    port: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(HttpRequest(method, path, headers, body))
                async with self._arrived:
                    self._arrived.notify_all()
                if self.mode == "hang":
                    await self._release.wait()
                    return
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(f"HTTP/1.1 {self.status} X\r\ncontent-length: 2\r\n\r\nok".encode())
                await writer.drain()
                self.answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_until(self, predicate: Callable[[list[HttpRequest]], bool]) -> None:
        """Returns once the requests received so far satisfy `predicate`."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: predicate(self.requests))

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[HttpRecorder]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._release.set()
            server.close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(content, policy=policy.default)))
        return "250 Message accepted for delivery"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[int, _Inbox]]:
    """An SMTP server (aiosmtpd) on a free loopback port, in this event loop."""
    inbox = _Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox, hostname="ownat.test"), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], inbox
    finally:
        server.close()
