"""An MLLP listener for HL7 v2 results: asyncio TCP, one transaction and one ACK per message.

MLLP frames a message as 0x0B <message> 0x1C 0x0D. Each framed message goes through the same
intake as the HTTP endpoint, in a transaction of its own, and its ACK is written back only after
that transaction committed, so an AA always means "stored". A frame that is broken or too large
is kept (rejected) and answered where the sender waits for an answer; it never stops the listener.
MLLP itself has no authentication or encryption: expose the port only to the laboratory's network
(or behind a TLS tunnel).

Device observations (IHE PCD-01, recognised by `DeviceMessages.accepts`) go to the device tier's
receiver instead, injected by the process that runs the listener. A monitor gateway streams them:
the listener reads the next frame while earlier ones are being committed, and writes the ACKs in
the order the messages came, each after its own commit (at most `MAX_IN_FLIGHT` waiting at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import UTC, tzinfo
from types import TracebackType
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.lab import intake
from clinical.lab.hl7.ack import AckOutcome, build_ack
from clinical.lab.hl7.errors import ErrorCode, Hl7Problem, application_error, rejected
from clinical.lab.hl7.message import MAX_MESSAGE_CHARS, Header, decode_payload, parse_message, read_header
from core.principal import SYSTEM, Principal
from core.sessions import transaction

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
DEFAULT_PORT = 2575  # IANA's port for HL7 over MLLP
DEFAULT_MAX_MESSAGE_BYTES = MAX_MESSAGE_CHARS
DEFAULT_IDLE_TIMEOUT_S = 300.0
DEFAULT_GRACE_S = 5.0
STORED_PREFIX_BYTES = 65_536  # how much of an oversized frame is kept for the record
# Frames of one connection read ahead of their ACKs: enough to keep the ingest batches full at a
# gateway's streaming rate, few enough that a stalled database stops the reading soon.
MAX_IN_FLIGHT = 256

log = logging.getLogger(__name__)


class DeviceMessages(Protocol):
    """Where device observations go (the device tier's PCD-01 receiver)."""

    def accepts(self, raw: str) -> bool: ...

    async def receive(self, raw: str) -> str:
        """The ACK, once what the message carried is committed."""
        ...


def frame(message: str) -> bytes:
    """The message wrapped in MLLP's start and end blocks."""
    return START_BLOCK + message.encode("utf-8") + END_BLOCK


class MllpServer:
    """Start it from a running loop (`async with MllpServer(...) as server:`); `port` is the bound port."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
        default_tz: tzinfo = UTC,
        actor: Principal = SYSTEM,
        devices: DeviceMessages | None = None,
    ) -> None:
        self._sessions = sessions
        self._devices = devices
        self._host, self._port = host, port
        self._max_message_bytes = max_message_bytes
        self._idle_timeout_s = idle_timeout_s
        self._default_tz = default_tz
        self._actor = actor
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Binds and starts accepting connections."""
        self._server = await asyncio.start_server(
            self._serve_connection, self._host, self._port, limit=self._max_message_bytes + len(END_BLOCK)
        )
        log.info("MLLP listener on %s:%s", self._host, self.port)

    @property
    def port(self) -> int:
        """The port actually bound (useful when started on port 0)."""
        assert self._server is not None and self._server.sockets, "the server is not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self, *, grace_s: float = DEFAULT_GRACE_S) -> None:
        """Stops accepting; open connections get `grace_s` to finish what they are doing, then end."""
        if self._server is None:
            return
        self._server.close()
        if self._connections:
            _, pending = await asyncio.wait(set(self._connections), timeout=grace_s)
            for task in pending:
                # Mid-message, the transaction rolls back and no ACK goes out: the sender sends again.
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> MllpServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._converse(reader, writer)
        except TimeoutError:
            log.info("MLLP connection from %s idle; closing it", peer)
        except ConnectionError as error:
            log.info("MLLP connection from %s lost: %s", peer, error)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # ACKs to write, in the order of their messages; None ends the conversation.
        answers: asyncio.Queue[Awaitable[str | None] | None] = asyncio.Queue(MAX_IN_FLIGHT)
        replying = asyncio.create_task(self._reply_in_order(answers, writer))
        try:
            await self._read_frames(reader, answers)
            await answers.put(None)
            await replying
        finally:
            replying.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await replying

    async def _read_frames(
        self, reader: asyncio.StreamReader, answers: asyncio.Queue[Awaitable[str | None] | None]
    ) -> None:
        while True:
            try:
                async with asyncio.timeout(self._idle_timeout_s):
                    chunk = await reader.readuntil(END_BLOCK)
            except asyncio.IncompleteReadError as eof:
                if eof.partial.strip():
                    await self._keep_broken(eof.partial, "the connection closed before the end block")
                return
            except asyncio.LimitOverrunError as overrun:
                head = await reader.read(min(overrun.consumed, STORED_PREFIX_BYTES))
                reason = f"a frame longer than {self._max_message_bytes} bytes"
                await answers.put(_ready(await self._keep_broken(head, reason)))
                return  # the rest of that frame cannot be told apart from the next one
            await answers.put(await self._handle(chunk[: -len(END_BLOCK)]))

    async def _reply_in_order(
        self, answers: asyncio.Queue[Awaitable[str | None] | None], writer: asyncio.StreamWriter
    ) -> None:
        while (answer := await answers.get()) is not None:
            ack = await answer
            if ack is not None:
                await self._reply(writer, ack)

    async def _handle(self, chunk: bytes) -> Awaitable[str | None]:
        start = chunk.find(START_BLOCK)
        if start == -1:
            return _ready(await self._keep_broken(chunk, "no start block (0x0B) before the end block"))
        if chunk[:start].strip():
            log.warning("MLLP: %d bytes outside any frame were ignored", start)
        *unterminated, payload = chunk[start + 1 :].split(START_BLOCK)
        for broken in unterminated:
            # The sender started over; it waits for the answer to its new frame, not to this one.
            await self._keep_broken(broken, "a new start block (0x0B) came before this frame's end block")
        if self._devices is not None:
            raw = decode_payload(payload)
            if self._devices.accepts(raw):
                # Not awaited here: the next frame is read while this one waits for its commit.
                return asyncio.ensure_future(self._device_ack(raw))
        return _ready(await self._process(payload))

    async def _device_ack(self, raw: str) -> str:
        assert self._devices is not None
        try:
            return await self._devices.receive(raw)
        except Exception:
            # Not committed (the database or the ingest worker away): AE, so the sender keeps it.
            log.exception("a device message received over MLLP was not stored")
            problem = application_error(
                ErrorCode.INTERNAL_ERROR, "the message could not be stored; send it again"
            )
            return build_ack(_header_or_none(raw), AckOutcome.from_problem(problem))

    async def _process(self, payload: bytes) -> str:
        raw = decode_payload(payload)
        try:
            async with transaction(self._sessions) as session:
                ack = await intake.receive(
                    session=session,
                    actor=self._actor,
                    raw=raw,
                    channel=intake.MLLP,
                    default_tz=self._default_tz,
                )
            return ack
        except Exception:
            # The listener answers every message: a failure here (the database, a bug) is logged
            # and answered AE, never AA, so the sender keeps the message and sends it again.
            log.exception("filing an HL7 message received over MLLP failed")
            problem = application_error(
                ErrorCode.INTERNAL_ERROR, "the message could not be processed; send it again"
            )
            return await self._keep(raw, problem)

    async def _keep_broken(self, payload: bytes, reason: str) -> str:
        start = payload.find(START_BLOCK)
        if start != -1:  # keep the message, not its framing
            payload = payload[start + 1 :]
        return await self._keep(
            decode_payload(payload), rejected(ErrorCode.SEGMENT_SEQUENCE, f"MLLP framing: {reason}")
        )

    async def _keep(self, raw: str, problem: Hl7Problem) -> str:
        try:
            async with transaction(self._sessions) as session:
                receipt = await intake.keep_unfiled(
                    session=session, actor=self._actor, raw=raw, channel=intake.MLLP, problem=problem
                )
            return receipt.ack
        except Exception:
            log.exception("storing an HL7 message received over MLLP failed")
            return build_ack(_header_or_none(raw), AckOutcome.from_problem(problem))

    async def _reply(self, writer: asyncio.StreamWriter, ack: str) -> None:
        writer.write(frame(ack))
        await writer.drain()


def _ready(ack: str | None) -> Awaitable[str | None]:
    """An answer already known, in the queue of answers still being worked out."""
    done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    done.set_result(ack)
    return done


def _header_or_none(raw: str) -> Header | None:
    try:
        return read_header(parse_message(raw))
    except Hl7Problem:
        return None
