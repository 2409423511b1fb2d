"""One load of the fan-out benchmark, from a fresh scratch database and fresh services to its figures.

A step plans and builds the hospital, then runs three phases on the same load: the bare broadcast
baseline (same clients), Ownat (one `ownat ingest` worker and one `ownat api` hub, same clients, a
Redis tap) and the raw MQTT subscribe rate (the load alone into a bare paho client). Both the single
run (`python -m bench.fanout`) and the curve (`--curve`) call `run_step`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.broker import private_broker
from bench.fanout import hospital, load, mqtt_rate, report, run
from bench.fanout.mqtt_rate import MqttRate
from bench.fanout.tap import BusTap
from bench.ingest.run import scratch_database
from core.settings import load_settings
from realtime.hub import HubTuning


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
    baseline: str = "coalesced"  # or "per-reading": each device message a frame of its own
    mqtt_seconds: float = 10.0  # the raw MQTT phase's window; 0 leaves it out
    # A private Mosquitto per step with the deployment's queue limit (`bench.broker`); False: `mqtt_url`.
    private_broker: bool = True
    # Alarms evaluated by an `ownat ingest --alarms-only` of their own (the storing worker `--no-alarms`).
    alarm_process: bool = False
    # Tracing on at this sampling ratio (`core.tracing`), exported to a local sink; None: off.
    tracing: float | None = None


@dataclass(slots=True)
class Step:
    options: Options
    plan: hospital.Hospital
    ownat: report.Phase
    bare: report.Phase
    mqtt: MqttRate | None


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
        load_avg = os.getloadavg()[0]  # at the window's end: the minute before is mostly the window
        watcher.cancel()
        alarms: dict[str, list[str]] = {}
        # Only the Ownat phase raises alarms; the bare server has none to send.
        for device in published.crossed_us if prefix is not None else ():
            alarms.setdefault(plan.ward_of_device[device], []).append(plan.patient_of_device[device])
        outcome = await run.results(procs, dict(published.by_ward), alarms)
        if tapping is not None:
            tapping.cancel()
    return report.Phase(
        name=name, published=published, clients=outcome, cpu=cpu.used(), tap=bus_tap, load_avg=load_avg
    )


def _baseline_config(options: Options, plan: hospital.Hospital) -> dict:
    interval_s = HubTuning().coalesce_interval_s if options.baseline == "coalesced" else None
    return {
        "ward_of_device": plan.ward_of_device, "patient_of_device": plan.patient_of_device,
        "bed_of_device": plan.bed_of_device, "mqtt_url": options.mqtt_url, "coalesce_interval_s": interval_s,
    }  # fmt: skip


async def run_step(options: Options, log_dir: Path) -> Step:
    """One load in `log_dir` (made already): a scratch database, the baselines, Ownat's services."""
    if options.private_broker:
        with private_broker(log_dir / "broker") as url:
            return await _run_step(replace(options, mqtt_url=url, private_broker=False), log_dir)
    return await _run_step(options, log_dir)


async def _run_step(options: Options, log_dir: Path) -> Step:
    tag = secrets.token_hex(3)
    plan = hospital.plan(
        devices=options.devices, beds_per_ward=options.beds_per_ward, clients=options.clients,
        scripted=options.scripted, tag=tag,
    )  # fmt: skip
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
        print(f"baseline: bare websockets broadcast ({options.baseline}) ...", flush=True)
        async with run.baseline(_baseline_config(options, plan), log_dir) as (url, pid):
            bare = await _phase(options, plan, url, tokens, log_dir, "baseline", [pid])
        print("ownat: ingest worker + api hub ...", flush=True)
        env = run.service_env(
            database_url=database_url, redis_url=options.redis_url, mqtt_url=options.mqtt_url,
            prefix=prefix, secret=secret,
        )  # fmt: skip
        async with (
            run.otlp_sink(env, log_dir, options.tracing),
            run.ownat(env, log_dir, alarm_process=options.alarm_process) as (url, pids),
        ):
            measured = await _phase(options, plan, url, tokens, log_dir, "ownat", pids, prefix)
    rate = None
    if options.mqtt_seconds > 0:
        print("mqtt: bare paho subscriber ...", flush=True)
        rate = await mqtt_rate.measure(options, plan, log_dir, options.mqtt_seconds)
    return Step(options=options, plan=plan, ownat=measured, bare=bare, mqtt=rate)
