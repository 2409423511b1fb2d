"""`ownat ingest`: consume device MQTT messages into the vitals store.

Imports only the standard library at module level: the `ownat` command loads this module to
build its argument parser, whatever is installed.
"""

from __future__ import annotations

import argparse


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
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address of the metrics endpoint")


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the process exit status."""
    import asyncio
    import socket

    from core.heap import freeze_startup_heap
    from core.logging import configure_logging
    from core.settings import load_settings
    from devices.ingest.config import IngestConfig
    from devices.ingest.runner import run_ingest
    from realtime.alarms.live_evaluator import live_evaluator_factory

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    broker_url = settings.mqtt_url or f"mqtt://{settings.embedded_mqtt_host}:{settings.embedded_mqtt_port}"
    protocol = args.mqtt_protocol
    if protocol == "auto":
        # The embedded broker speaks MQTT 3.1.1 only; a real broker gets MQTT 5.
        protocol = "5" if settings.mqtt_url else "3.1.1"
    config = IngestConfig(
        database_url=settings.effective_database_url,
        broker_url=broker_url,
        client_id=args.client_id or f"ownat-ingest-{socket.gethostname()}",
        share_group=args.group,
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
    # The composition root: alarms are evaluated after each commit, by the realtime package.
    observer = None if args.no_alarms else live_evaluator_factory(settings)
    freeze_startup_heap()
    asyncio.run(
        run_ingest(
            settings,
            config,
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
            observer_factory=observer,
        )
    )
    return 0
