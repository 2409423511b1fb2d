"""`ownat ingest`: consume device MQTT messages into the vitals store.

One ingest worker (`devices.ingest`) with its own database pool, bus, Prometheus endpoint and
signal handling; the live alarm evaluator (`realtime.alarms`) is injected here as its batch
observer, so that ingestion knows nothing of alarms.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ownat.processes.metrics_endpoint import add_metrics_arguments, serve_metrics

if TYPE_CHECKING:  # annotations only: `ownat.cli` loads this module whatever is installed
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from core.bus import Bus
    from core.settings import Settings
    from devices.ingest import BatchObserver, IngestConfig

    ObserverFactory = Callable[[async_sessionmaker[AsyncSession], Bus], BatchObserver]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument(
        "--client-id",
        help="MQTT client id, unique per worker (default: per host)",
    )
    parser.add_argument(
        "--group", default="ownat-ingest", help="shared subscription group (default: %(default)s)"
    )
    parser.add_argument(
        "--mqtt-protocol",
        choices=("auto", "5", "3.1.1"),
        default="auto",
        help="auto: MQTT 5 to OWNAT_MQTT_URL, 3.1.1 to the embedded broker (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="readings per batch (default: %(default)s)"
    )
    parser.add_argument(
        "--flush-interval",
        type=float,
        default=0.05,
        help="seconds a batch may wait to fill (default: %(default)s)",
    )
    parser.add_argument(
        "--receive-maximum",
        type=int,
        default=2000,
        help="unacknowledged messages in flight (default: %(default)s)",
    )
    parser.add_argument(
        "--session-expiry",
        type=int,
        default=0,
        help="seconds the broker keeps this worker's session while it is away; 0, a clean session, "
        "lets the other workers take its share at once (default: %(default)s)",
    )
    parser.add_argument(
        "--max-reading-age-days",
        type=float,
        default=None,
        help="readings older than this are dead-lettered (default: --retention-days)",
    )
    parser.add_argument(
        "--retention-days", type=int, default=30, help="raw readings kept (default: %(default)s)"
    )
    parser.add_argument(
        "--rollup-retention-days",
        type=int,
        default=730,
        help="one-minute rollups kept (default: %(default)s)",
    )
    parser.add_argument(
        "--partition-days-ahead",
        type=int,
        default=7,
        help="daily partitions created ahead (default: %(default)s)",
    )
    parser.add_argument(
        "--no-alarms",
        action="store_true",
        help="do not evaluate alarms after each batch (when another worker or process does)",
    )
    parser.add_argument(
        "--alarms-only",
        action="store_true",
        help="evaluate alarms and store nothing, in share group <--group>-alarms, beside workers run "
        "with --no-alarms: alarms then have a process of their own",
    )
    add_metrics_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Runs the worker until SIGTERM or SIGINT; returns the process exit status."""
    import asyncio

    from core import tracing
    from core.heap import freeze_startup_heap
    from core.logging import configure_logging
    from core.settings import load_settings
    from realtime.alarms import live_evaluator_factory

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    # Before anything traced is built: components look once whether tracing is on.
    tracing.configure(settings, process="ingest-alarms" if args.alarms_only else "ingest")
    config = _config(settings, args)
    # Alarms are evaluated after each commit, by the realtime package, unless another process does.
    if args.no_alarms and args.alarms_only:
        raise SystemExit("ownat ingest: --no-alarms and --alarms-only exclude each other")
    observer = None if args.no_alarms else live_evaluator_factory(settings)
    freeze_startup_heap()
    asyncio.run(
        _serve(
            settings,
            config,
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
            observer_factory=observer,
        )
    )
    return 0


def _config(settings: Settings, args: argparse.Namespace) -> IngestConfig:
    import socket

    from devices.ingest import IngestConfig

    broker_url = settings.effective_mqtt_url
    protocol = args.mqtt_protocol
    if protocol == "auto":
        # The embedded broker speaks MQTT 3.1.1 only; a real broker gets MQTT 5.
        protocol = "5" if settings.mqtt_url else "3.1.1"
    return IngestConfig(
        database_url=settings.effective_database_url,
        broker_url=broker_url,
        client_id=args.client_id or f"ownat-ingest-{socket.gethostname()}",
        # Its own group: the broker then sends it every message, as it does the storing workers' group.
        share_group=f"{args.group}-alarms" if args.alarms_only else args.group,
        stores_readings=not args.alarms_only,
        mqtt_protocol=protocol,
        receive_maximum=args.receive_maximum,
        session_expiry_s=args.session_expiry,
        batch_max_readings=args.batch_size,
        flush_interval_s=args.flush_interval,
        retention_days=args.retention_days,
        rollup_retention_days=args.rollup_retention_days,
        partition_days_ahead=args.partition_days_ahead,
        max_reading_age_days=args.max_reading_age_days or args.retention_days,
    )


async def _serve(
    settings: Settings,
    config: IngestConfig,
    *,
    metrics_port: int | None,
    metrics_host: str,
    observer_factory: ObserverFactory | None,
) -> None:
    """Runs the worker until SIGTERM or SIGINT, then disconnects and closes everything."""
    import asyncio
    import contextlib
    import logging
    import signal

    from core.audit import AuditKeyring
    from core.bus import create_bus
    from core.db import create_engine
    from core.sessions import create_sessionmaker
    from devices.ingest import IngestMetrics, IngestWorker

    log = logging.getLogger(__name__)
    engine = create_engine(config.database_url)
    bus = create_bus(redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix)
    metrics = IngestMetrics()
    stop_metrics = serve_metrics(metrics.registry, port=metrics_port, host=metrics_host)
    sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
    observer = None if observer_factory is None else _observer_thread(settings, config, observer_factory)
    worker = IngestWorker(
        config=config, engine=engine, sessions=sessions, bus=bus, metrics=metrics, observer=observer
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
        stop_metrics()
        with contextlib.suppress(Exception):
            await bus.close()
        await engine.dispose()


def _observer_thread(settings: Settings, config: IngestConfig, factory: ObserverFactory) -> BatchObserver:
    """The batch observer on a thread of its own, with its own database pool and bus connection:
    alarm rounds and publishes never wait behind reading batches or the reading fan-out."""
    import contextlib
    from collections.abc import AsyncIterator

    from core.audit import AuditKeyring
    from core.bus import create_bus
    from core.db import create_engine
    from core.sessions import create_sessionmaker
    from devices.ingest import ObserverThread

    @contextlib.asynccontextmanager
    async def open_observer() -> AsyncIterator[BatchObserver]:
        engine = create_engine(config.database_url)
        bus = create_bus(redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix)
        sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
        try:
            yield factory(sessions, bus)
        finally:
            with contextlib.suppress(Exception):
                await bus.close()
            await engine.dispose()

    return ObserverThread(open_observer)
