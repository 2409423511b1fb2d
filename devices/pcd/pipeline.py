"""An ingest worker without MQTT, for a process that receives PCD-01 but consumes no broker.

`ownat mllp` runs one (and the API when `OWNAT_PCD_HTTP` is on): its readings are then stored,
dead-lettered, fanned out on the bus and evaluated for alarms by the same `IngestWorker` code as
`ownat ingest`, with the batch observer (alarms) the composition root gives it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.bus import Bus
from devices.ingest import BatchObserver, IngestConfig, IngestWorker
from devices.pcd.receiver import PcdReceiver
from devices.pcd.service import open_receiver


@contextlib.asynccontextmanager
async def running_receiver(
    *,
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    client_id: str,
    observer: BatchObserver | None = None,
) -> AsyncIterator[PcdReceiver]:
    """A PCD-01 receiver whose broker-less ingest worker runs while the context is open."""
    config = IngestConfig(database_url=database_url, broker_url="", client_id=client_id)
    worker = IngestWorker(config=config, engine=engine, sessions=sessions, bus=bus, observer=observer)
    task = asyncio.create_task(worker.run(), name=f"pcd-ingest-{client_id}")
    try:
        # Not waiting for the worker: the listener (and its lab results) must not wait for it. Until
        # the worker is ready, a PCD-01 message is answered AE, and its sender sends it again.
        yield open_receiver(sessions=sessions, inlet=worker)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
