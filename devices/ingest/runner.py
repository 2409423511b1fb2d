"""Running one ingest worker as a process (`ownat ingest`): resources, metrics endpoint, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.keys import AuditKeyring
from core.bus import Bus, create_bus
from core.db import create_engine
from core.sessions import create_sessionmaker
from core.settings import Settings
from devices.ingest.config import IngestConfig
from devices.ingest.metrics import IngestMetrics
from devices.ingest.observer_thread import ObserverThread
from devices.ingest.worker import BatchObserver, IngestWorker

log = logging.getLogger(__name__)


async def run_ingest(
    settings: Settings,
    config: IngestConfig,
    *,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    observer_factory: Callable[[async_sessionmaker[AsyncSession], Bus], BatchObserver] | None = None,
) -> None:
    """Runs the worker until SIGTERM or SIGINT, then disconnects and closes everything."""
    engine = create_engine(config.database_url)
    bus = create_bus(redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix)
    metrics = IngestMetrics()
    server = None
    if metrics_port is not None:
        # prometheus_client serves from a daemon thread of its own; nothing here blocks the loop.
        server, _thread = start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
    sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))

    @contextlib.asynccontextmanager
    async def open_observer() -> AsyncIterator[BatchObserver]:
        # Alarms have their own database pool and bus connection, on their own thread's loop: their
        # rounds and publishes never wait behind reading batches or the reading fan-out.
        assert observer_factory is not None
        alarm_engine = create_engine(config.database_url)
        alarm_bus = create_bus(redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix)
        alarm_sessions = create_sessionmaker(alarm_engine, audit_keys=AuditKeyring.from_settings(settings))
        try:
            yield observer_factory(alarm_sessions, alarm_bus)
        finally:
            with contextlib.suppress(Exception):
                await alarm_bus.close()
            await alarm_engine.dispose()

    worker = IngestWorker(
        config=config,
        engine=engine,
        sessions=sessions,
        bus=bus,
        metrics=metrics,
        observer=ObserverThread(open_observer) if observer_factory is not None else None,
    )
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        if task is not None:
            loop.add_signal_handler(signum, task.cancel)
    log.info(
        "ingest worker starting",
        extra={"client_id": config.client_id, "group": config.share_group, "protocol": config.mqtt_protocol},
    )
    try:
        await worker.run()
    except asyncio.CancelledError:
        log.info("ingest worker stopping")
    finally:
        if server is not None:
            server.shutdown()
        with contextlib.suppress(Exception):
            await bus.close()
        await engine.dispose()
