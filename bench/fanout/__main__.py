"""`python -m bench.fanout [--devices N] [--clients N] [--seconds S]`: live fan-out, devices to dashboards.

Simulated monitors publish through the machine's Mosquitto; one `ownat ingest` worker stores and
publishes their readings and alarms on Redis; one `ownat api` instance's hub sends them to dashboard
clients, each signed in as a nurse and watching a ward. The same load then goes through a bare
`websockets` broadcast server to the same number of clients, the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.fanout import hospital, load, report, run
from bench.fanout.tap import BusTap
from bench.ingest.run import scratch_database
from core.settings import load_settings


@dataclass(frozen=True, slots=True)
class Options:
    devices: int
    clients: int
    beds_per_ward: int
    scripted: int
    warmup_s: float
    seconds: float
    client_processes: int
    postgres_url: str
    redis_url: str
    mqtt_url: str


def _options() -> Options:
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
    args = parser.parse_args()
    env = os.environ.get
    return Options(
        devices=args.devices, clients=args.clients, beds_per_ward=args.beds_per_ward, scripted=args.alarms,
        warmup_s=args.warmup, seconds=args.seconds, client_processes=args.client_processes,
        postgres_url=env("OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        redis_url=env("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        mqtt_url=env("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
    )  # fmt: skip


async def _phase(
    options: Options,
    plan: hospital.Hospital,
    url: str,
    tokens: list[str],
    log_dir: Path,
    name: str,
    pids: list[int],
    prefix: str | None = None,
) -> report.Phase:
    """Clients on `url`, the load for warm-up plus the window, then the clients' results."""
    assignments = [(token, ward) for token, (_user, ward) in zip(tokens, plan.staff, strict=True)]
    scripted_patients = [plan.patient_of_device[d] for d in plan.scripted]
    async with run.clients(
        url, assignments, scripted_patients, options.client_processes, log_dir, name
    ) as procs:
        now = time.time()
        window = (load.micros(now + options.warmup_s), load.micros(now + options.warmup_s + options.seconds))
        await run.tell(procs, f"start [{window[0]}, {window[1]}]")
        cpu = report.CpuWindow(pids, window)
        watcher = asyncio.create_task(cpu.watch())
        bus_tap = None
        if prefix is not None:
            alarm_patients = [str(p) for p in scripted_patients]
            bus_tap = BusTap(options.redis_url, prefix, plan.wards, window, alarm_patients=alarm_patients)
        tapping = None if bus_tap is None else asyncio.create_task(bus_tap.run())
        if bus_tap is not None:
            await bus_tap.listening.wait()
        published = await load.run(
            mqtt_url=options.mqtt_url,
            ward_of_device=plan.ward_of_device,
            scripted=plan.scripted,
            window_us=window,
        )
        cpu.finish()
        watcher.cancel()
        alarms: dict[str, list[str]] = {}
        # Only the Ownat phase raises alarms; the bare server has none to send.
        for device in published.crossed_us if prefix is not None else ():
            alarms.setdefault(plan.ward_of_device[device], []).append(plan.patient_of_device[device])
        outcome = await run.results(procs, dict(published.by_ward), alarms)
        if tapping is not None:
            tapping.cancel()
    return report.Phase(name=name, published=published, clients=outcome, cpu=cpu.used(), tap=bus_tap)


async def main(options: Options) -> int:
    tag = secrets.token_hex(3)
    plan = hospital.plan(
        devices=options.devices, beds_per_ward=options.beds_per_ward, clients=options.clients,
        scripted=options.scripted, tag=tag,
    )  # fmt: skip
    log_dir = Path(tempfile.mkdtemp(prefix="ownat-fanout-"))
    print(
        f"preparing: {options.devices} devices in {len(plan.wards)} wards, {options.clients} clients; logs in {log_dir}",
        flush=True,
    )
    secret = secrets.token_urlsafe(48)
    settings = load_settings(secret_key=secret, access_token_ttl_s=run.TOKEN_TTL_S)
    tokens = hospital.tokens(plan, settings)
    prefix = f"ownat-fanout-{tag}:"
    async with scratch_database(options.postgres_url) as database_url:
        await hospital.build(database_url, plan, tag)
        print("baseline: bare websockets broadcast ...", flush=True)
        async with run.baseline(
            {"ward_of_device": plan.ward_of_device, "mqtt_url": options.mqtt_url}, log_dir
        ) as url:
            bare = await _phase(options, plan, url, tokens, log_dir, "baseline", [])
        print("ownat: ingest worker + api hub ...", flush=True)
        env = run.service_env(
            database_url=database_url, redis_url=options.redis_url, mqtt_url=options.mqtt_url,
            prefix=prefix, secret=secret,
        )  # fmt: skip
        async with run.ownat(env, log_dir) as (url, pids):
            measured = await _phase(options, plan, url, tokens, log_dir, "ownat", pids, prefix)
    (log_dir / "results.json").write_text(
        json.dumps({p.name: {"clients": p.clients, "by_ward": p.published.by_ward} for p in (measured, bare)})
    )
    return report.print_report(options, plan, measured, bare)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_options())))
