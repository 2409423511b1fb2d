"""`python -m bench.ingest [--rate V] [--workers K] [--measure S] | --curve [--steps V,V,...]`: ingestion.

One offered rate reported in full, or with `--curve` a row per offered rate (values/s) and the
capacity (see `bench.ingest.curve`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from bench.ingest import curve
from bench.ingest.run import Options
from bench.ingest.step import Outcome, run_step

DEFAULT_STEPS = "20000,40000,60000,80000,100000"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--samples", type=int, default=16, help="sample instants per message")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between a monitor's messages")
    parser.add_argument("--rate", type=int, default=60_000, help="values per second offered")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=5000, help="readings per worker batch")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--measure", type=float, default=30.0, help="seconds measured after the warm-up")
    parser.add_argument("--profile", metavar="DIR", help="profile the workers with cProfile into DIR")
    curve_options = parser.add_argument_group("capacity curve")
    curve_options.add_argument(
        "--curve", action="store_true", help="step the offered rate; print the capacity"
    )
    curve_options.add_argument(
        "--steps", default=DEFAULT_STEPS, help="values/s offered per step, comma-separated"
    )
    curve_options.add_argument(
        "--beyond", type=int, default=2, help="failing steps in a row after which the curve stops"
    )
    curve_options.add_argument("--commit-p99-ms", type=float, default=curve.COMMIT_P99_MS)
    curve_options.add_argument(
        "--keeps-up", type=float, default=curve.KEEPS_UP, help="share of the offered rate to sustain"
    )
    return parser


def _options(args: argparse.Namespace) -> Options:
    return Options(
        postgres_url=os.environ.get("OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        mqtt_url=os.environ.get("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
        redis_url=os.environ.get("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        devices=args.devices, samples=args.samples, period_s=args.period, rate=args.rate,
        workers=args.workers, batch_size=args.batch_size, warmup_s=args.warmup, measure_s=args.measure,
        profile_dir=args.profile,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    options = _options(args)
    if args.curve:
        rule = curve.Rule(commit_p99_ms=args.commit_p99_ms, keeps_up=args.keeps_up)
        steps = [int(s) for s in args.steps.split(",") if s.strip()]
        log_dir = Path(tempfile.mkdtemp(prefix="ownat-bench-curve-"))
        return await curve.run_curve(options, steps, beyond=args.beyond, rule=rule, log_dir=log_dir)
    log_dir = Path(tempfile.mkdtemp(prefix="ownat-bench-"))
    outcome = await run_step(options, log_dir)
    _report(options, outcome, log_dir)
    return 0 if outcome.rows == outcome.measured.published_readings == outcome.distinct else 1


def _report(options: Options, outcome: Outcome, log_dir: Path) -> None:
    measured, rows, distinct = outcome.measured, outcome.rows, outcome.distinct
    naive_rate, copy_rate, cpu_per_reading = outcome.naive_rate, outcome.copy_rate, outcome.cpu_per_reading_s
    sustained = outcome.sustained
    latencies = sorted(measured.latencies_s)
    bus_p50 = statistics.median(latencies) if latencies else float("nan")
    bus_p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
    per_message = measured.published_readings / max(1, measured.published_messages)
    print(
        f"\nload: {options.devices} monitors, one message each every {options.period_s:g} s, "
        f"{per_message:.1f} values per message; {options.workers} ingest worker(s); offered {options.rate:,} values/s\n"
        f"sustained:        {sustained:,.0f} values/s ({sustained / per_message:,.0f} messages/s) over {measured.window_s:g} s\n"
        f"publish->commit:  p50 {measured.commit_p50_s * 1000:.0f} ms, p99 {measured.commit_p99_s * 1000:.0f} ms "
        "(every message of the window, from the workers' histogram)\n"
        f"publish->bus:     p50 {bus_p50 * 1000:.0f} ms, p99 {bus_p99 * 1000:.0f} ms "
        f"({len(latencies):,} readings of 1 device in {options.latency_sample_every}, as a dashboard sees them)\n"
        f"naive baseline:   {naive_rate:,.0f} values/s (INSERT + COMMIT per reading) -> pipeline x{sustained / naive_rate:.1f}\n"
        f"bare COPY:        {copy_rate:,.0f} values/s (ceiling, no conflict handling) -> pipeline at {sustained / copy_rate:.0%}\n"
        f"delivery:         published {measured.published_readings:,}, stored {rows:,} rows, "
        f"{distinct:,} distinct keys, lost {measured.published_readings - rows:,}, duplicates {rows - distinct:,}\n"
        f"worker CPU:       {cpu_per_reading * 1e6:.1f} µs per reading (all workers: MQTT, decoding, COPY, bus)\n"
        f"publisher CPU:    {measured.publisher_cpu_s / max(1, measured.published_readings) * 1e6:.1f} µs per reading "
        "(this process: load generation, MQTT publishing, polling, the bus listener)\n"
        f"machine load:     {outcome.load_avg:.1f} at the window's end (1-minute average, {os.cpu_count()} CPUs)\n"
        f"publisher paused {measured.paused_s:.1f} s for backpressure; worker logs in {log_dir}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_parser().parse_args())))
