"""`python -m bench.subscriptions`: FHIR subscription latency at bench/fanout's load, and bulk export throughput.

Live: the fan-out benchmark's hospital and load (simulated monitors through Mosquitto, one `ownat
ingest` worker, one `ownat api` instance, dashboard clients on the hub), with websocket
subscribers of ward vital signs on the same api instance. Reported side by side from the same run:
the hub's reading latency (publish to dashboard) and the subscribers' (commit, i.e. the reading
coming off the bus, to the notification; and publish to notification).
Export: the analytics benchmark's generated year, exported (Patient, Appointment, Encounter) as
`ownat worker` does, against a `COPY` of the same tables: resources per second and rows per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.fanout import hospital, load, report, run
from bench.fanout.tap import BusTap
from bench.ingest.run import scratch_database
from bench.subscriptions import export
from bench.subscriptions.probe import SETTLE_S, SubscriptionProbe, quantile
from core.settings import load_settings


@dataclass(frozen=True, slots=True)
class Options:
    devices: int
    clients: int
    beds_per_ward: int
    scripted: int
    subscriptions: int
    warmup_s: float
    seconds: float
    client_processes: int
    rollup_days: int
    batch: int
    live: bool
    export: bool
    postgres_url: str
    redis_url: str
    mqtt_url: str


def _options() -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions", description=__doc__)
    parser.add_argument(
        "--devices", type=int, default=2000, help="simulated monitors, 1 Hz (bench/fanout's load)"
    )
    parser.add_argument("--clients", type=int, default=1000, help="hub dashboard clients")
    parser.add_argument("--beds-per-ward", type=int, default=25)
    parser.add_argument("--alarms", type=int, default=20)
    parser.add_argument(
        "--subscriptions", type=int, default=8, help="ward vital-sign subscriptions (websocket)"
    )
    parser.add_argument("--warmup", type=float, default=45.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--rollup-days", type=int, default=1, help="rollup days of the analytics data")
    parser.add_argument("--batch", type=int, default=500, help="export batch size (OWNAT_FHIR_EXPORT_BATCH)")
    parser.add_argument("--no-live", action="store_true", help="skip the subscription latency part")
    parser.add_argument("--no-export", action="store_true", help="skip the export throughput part")
    args = parser.parse_args()
    env = os.environ.get
    return Options(
        devices=args.devices, clients=args.clients, beds_per_ward=args.beds_per_ward, scripted=args.alarms,
        subscriptions=args.subscriptions, warmup_s=args.warmup, seconds=args.seconds,
        client_processes=args.client_processes, rollup_days=args.rollup_days, batch=args.batch,
        live=not args.no_live, export=not args.no_export,
        postgres_url=env("OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        redis_url=env("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        mqtt_url=env("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
    )  # fmt: skip


async def live(options: Options) -> bool:
    """The fan-out load with hub clients and ward subscribers together; prints both; True if complete."""
    tag = secrets.token_hex(3)
    plan = hospital.plan(
        devices=options.devices, beds_per_ward=options.beds_per_ward, clients=options.clients,
        scripted=options.scripted, tag=tag,
    )  # fmt: skip
    log_dir = Path(tempfile.mkdtemp(prefix="ownat-subscriptions-"))
    print(f"live: {options.devices} devices in {len(plan.wards)} wards, {options.clients} hub clients, "
          f"{options.subscriptions} ward subscriptions; logs in {log_dir}", flush=True)  # fmt: skip
    secret = secrets.token_urlsafe(48)
    settings = load_settings(secret_key=secret, access_token_ttl_s=run.TOKEN_TTL_S)
    tokens = hospital.tokens(plan, settings)
    prefix = f"ownat-subs-{tag}:"
    async with scratch_database(options.postgres_url) as database_url:
        await hospital.build(database_url, plan, tag)
        env = run.service_env(
            database_url=database_url, redis_url=options.redis_url, mqtt_url=options.mqtt_url,
            prefix=prefix, secret=secret,
        )  # fmt: skip
        async with run.ownat(env, log_dir) as (url, pids):
            api_base = url.removesuffix("/ws").replace("ws://", "http://")
            probe = SubscriptionProbe(
                api_base=api_base, token=tokens[0], wards=plan.wards[: options.subscriptions],
                redis_url=options.redis_url, prefix=prefix,
            )  # fmt: skip
            await probe.open()
            phase = await _phase(options, plan, url, tokens, log_dir, pids, prefix, probe)
    _print(options, plan, phase, probe)
    return probe.missing() == 0


async def _phase(options, plan, url, tokens, log_dir, pids, prefix, probe) -> report.Phase:
    """bench/fanout's measured phase, with the subscribers timing the same window."""
    assignments = [(token, ward) for token, (_user, ward) in zip(tokens, plan.staff, strict=True)]
    scripted_patients = [plan.patient_of_device[d] for d in plan.scripted]
    async with run.clients(
        url, assignments, scripted_patients, options.client_processes, log_dir, "ownat"
    ) as procs:
        now = time.time()
        window = (load.micros(now + options.warmup_s), load.micros(now + options.warmup_s + options.seconds))
        probe.window_us = window
        await run.tell(procs, f"start [{window[0]}, {window[1]}]")
        cpu = report.CpuWindow(pids, window)
        watcher = asyncio.create_task(cpu.watch())
        bus_tap = BusTap(options.redis_url, prefix, plan.wards, window)
        tapping = asyncio.create_task(bus_tap.run())
        probing = asyncio.create_task(probe.run())
        await bus_tap.listening.wait()
        await probe.listening.wait()
        published = await load.run(
            mqtt_url=options.mqtt_url,
            ward_of_device=plan.ward_of_device,
            scripted=plan.scripted,
            window_us=window,
        )
        cpu.finish()
        watcher.cancel()
        alarms: dict[str, list[str]] = {}
        for device in published.crossed_us:
            alarms.setdefault(plan.ward_of_device[device], []).append(plan.patient_of_device[device])
        outcome = await run.results(procs, dict(published.by_ward), alarms)
        # The subscribers may still be catching up once the hub's clients have everything.
        await probe.settled(SETTLE_S)
        probing.cancel()
        tapping.cancel()
        await asyncio.gather(probing, tapping, return_exceptions=True)
    return report.Phase(name="ownat", published=published, clients=outcome, cpu=cpu.used(), tap=bus_tap)


def _print(options: Options, plan: hospital.Hospital, phase: report.Phase, probe: SubscriptionProbe) -> None:
    complete, clients, missing, _extra = phase.completeness()
    commit, publish = probe.from_commit_ms, probe.from_publish_ms
    print(
        f"\nload: {options.devices} devices at 1 Hz in {len(plan.wards)} wards, window {phase.window_s:g} s after "
        f"{options.warmup_s:g} s warm-up\n"
        f"hub (dashboards, {clients} clients): publish -> dashboard p50 {phase.quantile_ms(0.5):.0f} ms, "
        f"p99 {phase.quantile_ms(0.99):.0f} ms; publish -> Redis p50 {phase.tap.quantile_ms(0.5):.0f} ms, "
        f"p99 {phase.tap.quantile_ms(0.99):.0f} ms; {complete} of {clients} complete, missing {missing:,}\n"
        f"subscriptions ({len(probe.wards)} ward websockets, {len(commit):,} notified readings):\n"
        f"  commit (off the bus) -> notification: p50 {quantile(commit, 0.5):.0f} ms, p99 {quantile(commit, 0.99):.0f} ms, "
        f"max {quantile(commit, 1.0):.0f} ms\n"
        f"  publish -> notification:              p50 {quantile(publish, 0.5):.0f} ms, p99 {quantile(publish, 0.99):.0f} ms\n"
        f"  readings of the window never notified ({SETTLE_S:g} s after the load): {probe.missing():,}\n"
        f"cpu in window: {', '.join(f'{n} {c:.0%}' for n, c in zip(('ingest worker', 'api'), phase.cpu, strict=False))} of a core\n"
        f"machine load: {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} CPUs)",
        flush=True,
    )


async def export_throughput(options: Options) -> None:
    print("\nexport: generating the analytics benchmark's year in a scratch database ...", flush=True)
    async with scratch_database(options.postgres_url) as database_url:
        started = time.perf_counter()
        await export.generate_year(database_url, options.rollup_days)
        print(f"generated in {time.perf_counter() - started:.0f} s; exporting ...", flush=True)
        figures = await export.measure(database_url, batch=options.batch)
    export_rate = figures.resources / figures.export_s
    copy_rate = figures.copy_rows / figures.copy_s
    print(
        f"export (system $export, {', '.join(f'{k} {v:,}' for k, v in figures.counts.items())}, batches of {options.batch}): "
        f"{figures.resources:,} resources in {figures.export_s:.1f} s = {export_rate:,.0f} resources/s\n"
        f"COPY of the same tables: {figures.copy_rows:,} rows in {figures.copy_s:.2f} s = {copy_rate:,.0f} rows/s\n"
        f"ratio: COPY/export x{copy_rate / export_rate:.1f}; machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )


async def main(options: Options) -> int:
    ok = True
    if options.live:
        ok = await live(options)
    if options.export:
        await export_throughput(options)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_options())))
