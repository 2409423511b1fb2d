"""`python -m bench.fanout [--devices N] [--clients N] [--seconds S] | --curve [--steps N,N,...]`: live fan-out.

Simulated monitors publish through the machine's Mosquitto; one `ownat ingest` worker stores and
publishes their readings and alarms on Redis; one `ownat api` instance's hub sends them to dashboard
clients, each signed in as a nurse and watching a ward. The same load also goes through a bare
`websockets` server broadcasting the hub's coalesced ward frames to the same number of clients, and
into a bare paho subscriber: the baselines. `--curve` runs this for each load of `--steps` (clients in
proportion) and prints the capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

from bench.fanout import curve, figures, report
from bench.fanout.step import Options, run_step

DEFAULT_STEPS = "500,1000,2000,3000,4000"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument(
        "--devices", type=int, default=2000, help="simulated monitors, one message a second each"
    )
    parser.add_argument("--clients", type=int, default=1000, help="dashboard WebSocket clients")
    parser.add_argument("--beds-per-ward", type=int, default=25)
    parser.add_argument("--alarms", type=int, default=20, help="devices scripted to cross their HR limit")
    parser.add_argument("--warmup", type=float, default=45.0, help="seconds of load before measuring")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--baseline", choices=("coalesced", "per-reading"), default="coalesced",
        help="the bare server's frames: the hub's coalesced ward frames, or one per device message",
    )  # fmt: skip
    parser.add_argument(
        "--mqtt-seconds", type=float, default=10.0, help="window of the raw MQTT phase (0: leave it out)"
    )
    parser.add_argument(
        "--alarm-process",
        action="store_true",
        help="alarms evaluated by an `ownat ingest --alarms-only` beside the storing worker",
    )
    parser.add_argument(
        "--machine-broker",
        action="store_true",
        help="use OWNAT_TEST_MQTT_URL's broker instead of a private one with the deployment's queue limit",
    )
    parser.add_argument(
        "--tracing", type=float, metavar="RATIO", default=None,
        help="trace the ingest worker and the api (sampling RATIO), exporting to a local OTLP sink",
    )  # fmt: skip
    curve_options = parser.add_argument_group("capacity curve")
    curve_options.add_argument("--curve", action="store_true", help="step the load; print the capacity")
    curve_options.add_argument("--steps", default=DEFAULT_STEPS, help="devices per step, comma-separated")
    curve_options.add_argument("--clients-ratio", type=float, default=0.5, help="clients per device")
    curve_options.add_argument(
        "--beyond", type=int, default=2, help="failing steps in a row after which the curve stops"
    )
    curve_options.add_argument("--reading-p99-ms", type=float, default=figures.READING_P99_MS)
    curve_options.add_argument("--alarm-p99-ms", type=float, default=figures.ALARM_P99_MS)
    return parser


def _options(args: argparse.Namespace) -> Options:
    env = os.environ.get
    return Options(
        devices=args.devices, clients=args.clients, beds_per_ward=args.beds_per_ward, scripted=args.alarms,
        warmup_s=args.warmup, seconds=args.seconds, client_processes=args.client_processes,
        postgres_url=env("OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        redis_url=env("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        mqtt_url=env("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
        baseline=args.baseline, mqtt_seconds=args.mqtt_seconds, private_broker=not args.machine_broker,
        alarm_process=args.alarm_process, tracing=args.tracing,
    )  # fmt: skip


async def single(options: Options) -> int:
    """One load, reported in full."""
    log_dir = Path(tempfile.mkdtemp(prefix="ownat-fanout-"))
    step = await run_step(options, log_dir)
    (log_dir / "results.json").write_text(
        json.dumps(
            {p.name: {"clients": p.clients, "by_ward": p.published.by_ward} for p in (step.ownat, step.bare)}
        )
    )
    return report.print_report(options, step.plan, step.ownat, step.bare, step.mqtt)


async def main(args: argparse.Namespace) -> int:
    options = _options(args)
    if not args.curve:
        return await single(options)
    log_dir = Path(tempfile.mkdtemp(prefix="ownat-fanout-curve-"))
    rule = figures.Rule(reading_p99_ms=args.reading_p99_ms, alarm_p99_ms=args.alarm_p99_ms)
    steps = [int(s) for s in args.steps.split(",") if s.strip()]
    return await curve.run_curve(
        options, steps, clients_ratio=args.clients_ratio, beyond=args.beyond, rule=rule, log_dir=log_dir
    )


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_parser().parse_args())))
