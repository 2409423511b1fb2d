"""Running `ownat worker` as a process: resources, metrics endpoint, signals, the audit sequencer."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import CollectorRegistry, start_http_server

from core.audit.sequencer import run_sequencer
from core.resources import Resources
from core.settings import Settings
from realtime.notifications.settings import NotificationSettings
from realtime.notifications.worker import NotificationWorker, WorkerIntervals

log = logging.getLogger(__name__)


async def run_worker(
    settings: Settings,
    notification_settings: NotificationSettings,
    *,
    intervals: WorkerIntervals,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> None:
    """Runs the worker until SIGTERM or SIGINT; the pass in progress finishes first."""
    resources = Resources.open(settings)
    worker = NotificationWorker(resources=resources, settings=notification_settings, intervals=intervals)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = None
    if metrics_port is not None:
        registry = CollectorRegistry()
        worker.senders.metrics.register(registry)
        server, _thread = start_http_server(metrics_port, addr=metrics_host, registry=registry)
    # The audit sequencer beside the loop, not in it: a slow delivery must not hold sealing back.
    sequencer = asyncio.create_task(
        run_sequencer(
            sessions=resources.sessions,
            keys=resources.audit_keys,
            interval_s=settings.audit_seal_interval_s,
            stop=stop,
        ),
        name="audit-sequencer",
    )
    log.info("notification worker started")
    try:
        await worker.run(stop)
    finally:
        stop.set()
        await sequencer
        if server is not None:
            server.shutdown()
        await worker.close()
        await resources.close()
        log.info("notification worker stopped")
