"""`ownat edge`: run the edge gateway near the devices (store and forward to the MQTT broker).

Imports only the standard library at module level, and only `edge` and `devices.simulator` when it
runs: the edge agent installs without the server's dependencies.

    ownat edge --broker mqtts://broker:8883 --ca-file ca.pem --simulate 5 --scenario sepsis
    ownat edge --config /etc/ownat/edge.toml
    ownat edge --simulate-sdc 2        # simulated IEEE 11073 SDC monitors, consumed over SDC (ownat[sdc])

Command-line options override the configuration file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.config import EdgeConfig

SIMULATED_PREFIX = "sim"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument("--config", type=Path, help="configuration file (TOML, or JSON by extension)")
    parser.add_argument("--broker", metavar="URL", help="mqtt://[user:password@]host[:port] or mqtts://...")
    parser.add_argument("--mqtt-version", choices=["3.1.1", "5"])
    tls = parser.add_argument_group("TLS")
    tls.add_argument("--ca-file", type=Path, help="CA certificate(s) to verify the broker (turns TLS on)")
    tls.add_argument("--cert-file", type=Path, help="client certificate (PEM)")
    tls.add_argument("--key-file", type=Path, help="client private key (PEM)")
    tls.add_argument(
        "--tls-insecure",
        action="store_true",
        default=None,
        help="do not check that the broker's certificate names its host (the chain is still verified)",
    )
    queue = parser.add_argument_group("queue")
    queue.add_argument("--queue", type=Path, metavar="PATH", help="SQLite queue file")
    queue.add_argument(
        "--max-queue-mb", type=float, help="disk budget in MiB; the oldest are dropped past it"
    )
    queue.add_argument("--max-queue-rows", type=int, help="disk budget in messages")
    queue.add_argument(
        "--durability", choices=["full", "normal"], help="fsync every queued batch (full) or not"
    )
    queue.add_argument("--inflight", type=int, help="unacknowledged messages per broker connection")
    queue.add_argument(
        "--ack-timeout",
        type=float,
        metavar="S",
        help="seconds to wait for the platform's acknowledgement before sending again (default 5)",
    )
    queue.add_argument(
        "--no-end-to-end-ack",
        dest="end_to_end_ack",
        action="store_false",
        default=None,
        help="delete messages on the broker's PUBACK (for a platform that publishes no acknowledgements)",
    )
    sim = parser.add_argument_group("simulation")
    sim.add_argument("--simulate", type=int, default=0, metavar="N", help="add N simulated bedside monitors")
    sim.add_argument(
        "--simulate-sdc",
        type=int,
        default=0,
        metavar="N",
        help="add N simulated SDC monitors (sdc11073 providers on 127.0.0.1) consumed over IEEE 11073 SDC",
    )
    sim.add_argument("--device-prefix", default=SIMULATED_PREFIX, help="id prefix of simulated devices")
    sim.add_argument(
        "--scenario", default="stable", help="course of the first simulated patient (e.g. sepsis)"
    )
    sim.add_argument("--time-scale", type=float, default=360.0, help="clinical seconds per second for it")
    sim.add_argument("--seed", type=int, help="simulation seed")
    sim.add_argument("--step-s", type=float, help="seconds between simulated readings")
    sim.add_argument(
        "--pcd-mllp",
        metavar="HOST:PORT",
        help="send the simulated monitors' readings as IHE PCD-01 (HL7 v2) over MLLP to this listener "
        "(`ownat mllp`, or `ownat dev` on 127.0.0.1:25750) instead of MQTT",
    )
    parser.add_argument("--status-interval-s", type=float, help="seconds between status lines in the log")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the process exit status."""
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = _configuration(args)
    except (OSError, ValueError) as error:
        print(f"ownat edge: {error}", file=sys.stderr)
        return 2
    if not config.devices:
        print(
            "ownat edge: no devices; list them in --config or add --simulate N or --simulate-sdc N",
            file=sys.stderr,
        )
        return 2
    pcd_target = None
    if args.pcd_mllp:
        host, _, port = args.pcd_mllp.rpartition(":")
        if not host or not port.isdigit():
            print("ownat edge: --pcd-mllp takes HOST:PORT, e.g. 127.0.0.1:2575", file=sys.stderr)
            return 2
        pcd_target = (host, int(port))
    try:
        asyncio.run(_serve(config) if pcd_target is None else _serve_pcd(config, *pcd_target))
    except (OSError, ValueError, sqlite3.Error) as error:
        # Bad TLS files, an unwritable queue path: say what, without a traceback.
        print(f"ownat edge: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: EdgeConfig) -> None:
    from edge.assembly import run_gateway

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_gateway(config, stop)


async def _serve_pcd(config: EdgeConfig, host: str, port: int) -> None:
    """The simulated monitors over PCD-01 (MLLP) rather than through the MQTT gateway."""
    from datetime import UTC, datetime

    from devices.simulator import paced, simulate
    from edge.adapters import SimulatorAdapter
    from edge.assembly import adapters
    from edge.pcd_mllp import PcdMllpSender

    devices = [d for a in adapters(config) if isinstance(a, SimulatorAdapter) for d in a.devices]
    stream = simulate(devices, datetime.now(UTC), config.simulation.step_s, seed=config.simulation.seed)
    sender = PcdMllpSender(host, port)
    task = asyncio.create_task(sender.run(paced(stream)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _configuration(args: argparse.Namespace) -> EdgeConfig:
    from edge.config import DeviceConfig, EdgeConfig, SdcAdapterConfig, SimulatorAdapterConfig, load_config

    config = load_config(args.config) if args.config else EdgeConfig()
    broker_updates = {
        "url": args.broker,
        "mqtt_version": args.mqtt_version,
        "ca_file": args.ca_file,
        "cert_file": args.cert_file,
        "key_file": args.key_file,
        "tls_insecure": args.tls_insecure,
        "inflight": args.inflight,
        "ack_timeout_s": args.ack_timeout,
        "end_to_end_ack": args.end_to_end_ack,
    }
    queue_updates = {
        "path": args.queue,
        "max_bytes": int(args.max_queue_mb * 1024 * 1024) if args.max_queue_mb else None,
        "max_rows": args.max_queue_rows,
        "durability": args.durability,
    }
    simulation_updates = {"seed": args.seed, "step_s": args.step_s}
    simulated = [
        DeviceConfig(
            id=f"{args.device_prefix}-{number:03d}",
            adapter=SimulatorAdapterConfig(
                scenario=args.scenario if number == 1 else "stable",
                time_scale=args.time_scale if number == 1 else 1.0,
            ),
        )
        for number in range(1, args.simulate + 1)
    ]
    simulated += [
        DeviceConfig(
            id=f"{args.device_prefix}-sdc-{number:03d}",
            adapter=SdcAdapterConfig(
                simulate=True,
                scenario=args.scenario if number == 1 else "stable",
                time_scale=args.time_scale if number == 1 else 1.0,
            ),
        )
        for number in range(1, args.simulate_sdc + 1)
    ]
    data = config.model_dump()
    data["broker"].update({k: v for k, v in broker_updates.items() if v is not None})
    data["queue"].update({k: v for k, v in queue_updates.items() if v is not None})
    data["simulation"].update({k: v for k, v in simulation_updates.items() if v is not None})
    data["devices"] = [*data["devices"], *(device.model_dump() for device in simulated)]
    if args.status_interval_s is not None:
        data["status_interval_s"] = args.status_interval_s
    # Validate the merged whole again, so options get the same checks as the file.
    return EdgeConfig.model_validate(data)
