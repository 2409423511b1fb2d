"""`ownat broker-config`: produce the MQTT broker's configuration from the registry, and sync the running broker.

    ownat broker-config --out DIR            write mosquitto.conf and dynamic-security.json into DIR
    ownat broker-config --sync               make the running broker agree with the registry, once
    ownat broker-config --sync --interval    ... and again every 5 minutes (the periodic safety net)
    ownat broker-config --sync --interval S  ... every S seconds

Needs OWNAT_DATABASE_URL, OWNAT_MQTT_ADMIN_URL (the broker's admin account) and OWNAT_MQTT_URL (the
ingest account, whose username and password are given to the broker). The work itself is
`devices.registry.broker_jobs`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.registry import Account, BrokerLayout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument("--out", type=Path, metavar="DIR", help="write the broker's configuration into DIR")
    parser.add_argument(
        "--sync", action="store_true", help="bring the running broker in line with the registry"
    )
    parser.add_argument(
        "--interval",
        type=float,
        nargs="?",
        const=0.0,
        metavar="SECONDS",
        help="with --sync: repeat every SECONDS (default OWNAT_BROKER_SYNC_INTERVAL_S, 300) until stopped",
    )
    layout = parser.add_argument_group(
        "broker layout (for --out; defaults describe the production container)"
    )
    layout.add_argument("--port", type=int, default=1883)
    layout.add_argument("--bind", metavar="ADDRESS", help="listen on this address only (default: all)")
    layout.add_argument("--plugin", metavar="PATH", help="the dynamic security plugin's path on the broker")
    layout.add_argument(
        "--config-dir", metavar="PATH", help="where the broker finds the JSON file (default: DIR's)"
    )
    layout.add_argument("--persistence-dir", metavar="PATH", help="the broker's persistence directory")
    layout.add_argument("--no-persistence", action="store_true", help="run the broker without persistence")


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the process exit status."""
    if not args.out and not args.sync:
        print("ownat broker-config: give --out DIR, --sync, or both", file=sys.stderr)
        return 2
    if args.interval is not None and not args.sync:
        print("ownat broker-config: --interval needs --sync", file=sys.stderr)
        return 2
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from core.audit import AuditKeyring
    from core.db import create_engine
    from core.logging import configure_logging
    from core.sessions import create_sessionmaker
    from core.settings import load_settings
    from devices import registry
    from devices.registry import BrokerAdminError, account_of, broker_access_from, load_broker_settings

    settings, broker_settings = load_settings(), load_broker_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if broker_settings.mqtt_admin_url is None:
        print("ownat broker-config: set OWNAT_MQTT_ADMIN_URL to the broker's admin account", file=sys.stderr)
        return 2
    admin_url = broker_settings.mqtt_admin_url.get_secret_value()
    ingest = _ingest_account(settings.mqtt_url)
    engine = create_engine(settings.effective_database_url)
    sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
    try:
        if args.out:
            paths = await registry.write_config(
                sessions=sessions,
                out_dir=args.out,
                layout=_layout(args),
                admin=account_of(admin_url),
                ingest=ingest,
            )
            print("wrote " + ", ".join(str(path) for path in paths))
        if args.sync:
            broker = broker_access_from(broker_settings)
            assert broker is not None  # the admin URL is set, checked above
            if args.interval is None:
                report = await registry.sync_once(sessions=sessions, broker=broker, ingest=ingest)
                print(f"broker synced: {report.summary()}")
                for device_id in report.missing:
                    print(f"  {device_id}: active, but the broker lacks its secret; issue it a new one")
            else:
                stop = asyncio.Event()
                # A container is stopped with SIGTERM: finish the round in progress, then leave.
                loop = asyncio.get_running_loop()
                for stop_signal in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(stop_signal, stop.set)
                await registry.sync_periodically(
                    sessions=sessions,
                    broker=broker,
                    ingest=ingest,
                    interval_s=args.interval or broker_settings.broker_sync_interval_s,
                    stop=stop,
                )
    except BrokerAdminError as error:
        print(f"ownat broker-config: {error}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    return 0


def _ingest_account(mqtt_url: str | None) -> Account | None:
    from devices.registry import account_of

    if not mqtt_url:
        print("note: OWNAT_MQTT_URL is not set; the ingest account is left as it is", file=sys.stderr)
        return None
    try:
        return account_of(mqtt_url)
    except ValueError:
        print(
            "note: OWNAT_MQTT_URL carries no password; the ingest account is left as it is", file=sys.stderr
        )
        return None


def _layout(args: argparse.Namespace) -> BrokerLayout:
    from devices.registry import CONTAINER_DATA_DIR, CONTAINER_PLUGIN, BrokerLayout

    persistence = None if args.no_persistence else (args.persistence_dir or CONTAINER_DATA_DIR)
    return BrokerLayout(
        port=args.port,
        bind_address=args.bind,
        plugin_path=args.plugin or CONTAINER_PLUGIN,
        config_dir=args.config_dir or str(args.out.resolve()),
        persistence_dir=persistence,
    )
