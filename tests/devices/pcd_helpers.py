"""Test helpers for IHE PCD-01: a running listener fed into a real ingest worker, an MLLP sender."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from clinical.lab.mllp import MllpServer
from core.bus import Bus
from core.db import create_engine
from core.sessions import create_sessionmaker
from devices.ingest.config import IngestConfig
from devices.ingest.worker import IngestWorker
from devices.pcd.service import open_receiver
from devices.protocol.pcd01 import END_BLOCK, frame
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.devices.ingest_helpers import GUARD_S, unique_name


def new_eui64() -> str:
    return secrets.token_hex(8).upper()


def pcd_worker_config(database_url: str) -> IngestConfig:
    """A worker with no MQTT source, as `ownat mllp` runs one for PCD-01."""
    return IngestConfig(
        database_url=database_url,
        broker_url="",
        client_id=unique_name("test-pcd"),
        flush_interval_s=0.05,
        binding_refresh_s=0.5,
        rollup_interval_s=1.0,
    )


@dataclass
class PcdListener:
    port: int
    worker: IngestWorker
    evaluator: LiveAlarmEvaluator


@asynccontextmanager
async def pcd_listener(database_url: str, bus: Bus) -> AsyncIterator[PcdListener]:
    """The MLLP listener with the PCD-01 receiver, feeding an ingest worker with the alarm evaluator."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning(min_round_interval_s=0.05))
    worker = IngestWorker(
        config=pcd_worker_config(database_url),
        engine=engine,
        sessions=sessions,
        bus=bus,
        observer=evaluator,
    )
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(GUARD_S):
            ready = asyncio.create_task(worker.ready.wait())
            done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()
        receiver = open_receiver(sessions=sessions, inlet=worker)
        async with MllpServer(sessions=sessions, port=0, devices=receiver) as server:
            yield PcdListener(server.port, worker, evaluator)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


class MllpSender:
    """One MLLP connection, as a monitor gateway holds it."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> MllpSender:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._writer is not None
        self._writer.close()
        await self._writer.wait_closed()

    async def send(self, message: str) -> None:
        assert self._writer is not None
        self._writer.write(frame(message))
        await self._writer.drain()

    async def ack(self) -> str:
        assert self._reader is not None
        async with asyncio.timeout(GUARD_S):
            data = await self._reader.readuntil(END_BLOCK)
        return data.strip(b"\x0b\x1c\r").decode()

    async def exchange(self, message: str) -> str:
        await self.send(message)
        return await self.ack()


def ack_fields(ack: str) -> dict[str, list[str]]:
    """Segments of an ACK by id, split into fields."""
    return {segment[:3]: segment.split("|") for segment in ack.split("\r") if segment}
