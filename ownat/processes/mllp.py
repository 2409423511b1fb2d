"""`ownat mllp`: receive HL7 v2 lab results (ORU^R01) and device observations (IHE PCD-01) over MLLP.

Device observations go to an ingest worker of this process without MQTT (`devices.pcd.pipeline`),
with the live alarm evaluator (`realtime.alarms`) injected to watch each message, as `ownat ingest`
runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `ownat.cli` loads this module whatever is installed
    from core.settings import Settings

DEFAULT_PORT = 2575  # IANA's port for HL7 over MLLP (clinical.lab.mllp.DEFAULT_PORT)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default: {DEFAULT_PORT})")
    parser.add_argument(
        "--max-message-bytes",
        type=int,
        default=1_000_000,
        help="largest message accepted; a longer frame is kept as rejected and its connection closed",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="IANA zone of times that carry no UTC offset, when MSH-7 has none either (default: UTC)",
    )


def run(args: argparse.Namespace) -> int:
    """Runs the listener until SIGINT or SIGTERM; returns the process exit status."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from core import tracing
    from core.logging import configure_logging
    from core.settings import load_settings

    try:
        zone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"unknown time zone {args.timezone!r}")
        return 2
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    tracing.configure(settings, process="mllp")  # before anything traced is built
    asyncio.run(_serve(settings, args, zone))
    return 0


async def _serve(settings: Settings, args: argparse.Namespace, zone: tzinfo) -> None:
    import socket

    from clinical.lab import MllpServer
    from core.audit import AuditKeyring
    from core.bus import create_bus
    from core.db import create_engine
    from core.sessions import create_sessionmaker
    from devices.pcd import running_receiver
    from realtime.alarms import live_evaluator_factory

    engine = create_engine(settings.effective_database_url)
    bus = create_bus(redis_url=settings.redis_url, key_prefix=settings.redis_key_prefix)
    sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        async with (
            running_receiver(
                database_url=settings.effective_database_url,
                engine=engine,
                sessions=sessions,
                bus=bus,
                client_id=f"ownat-mllp-{socket.gethostname()}",
                observer=live_evaluator_factory(settings)(sessions, bus),
            ) as devices,
            MllpServer(
                sessions=sessions,
                host=args.host,
                port=args.port,
                max_message_bytes=args.max_message_bytes,
                default_tz=zone,
                devices=devices,
            ),
        ):
            await stopping.wait()
    finally:
        await bus.close()
        await engine.dispose()
