"""`python -m bench.ingest [--devices N] [--workers K] [--measure S]`: run the ingest benchmark and print it."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from bench.ingest import baselines
from bench.ingest.load import MonitorLoad
from bench.ingest.run import Driver, Options, drain, register, scratch_database, subscribed, workers


def _options() -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--samples", type=int, default=16, help="sample instants per message")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between a monitor's messages")
    parser.add_argument("--rate", type=int, default=60_000, help="values per second offered")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=5000, help="readings per worker batch")
    parser.add_argument("--measure", type=float, default=30.0, help="seconds measured after a 5 s warm-up")
    parser.add_argument("--profile", metavar="DIR", help="profile the workers with cProfile into DIR")
    args = parser.parse_args()
    return Options(
        postgres_url=os.environ.get("OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        mqtt_url=os.environ.get("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
        redis_url=os.environ.get("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        devices=args.devices, samples=args.samples, period_s=args.period, rate=args.rate,
        workers=args.workers, batch_size=args.batch_size, measure_s=args.measure, profile_dir=args.profile,
    )  # fmt: skip


async def main(options: Options) -> int:
    prefix = f"ownat-bench-{secrets.token_hex(3)}:"
    device_ids = [f"bench-{secrets.token_hex(2)}-{i:05d}" for i in range(options.devices)]
    log_dir = Path(tempfile.mkdtemp(prefix="ownat-bench-"))
    print(
        f"preparing: scratch database, {options.devices} monitors, {options.workers} worker(s) ...",
        flush=True,
    )
    async with scratch_database(options.postgres_url) as database_url:
        await register(database_url, device_ids)
        load = MonitorLoad(device_ids, samples=options.samples, period_s=options.period_s)
        async with workers(options, database_url, prefix, log_dir) as pool:
            await subscribed(pool.ports)
            cpu_before, own_before = pool.cpu_seconds(), time.process_time()
            measured = await Driver(options, load, pool.ports).run(prefix)
            # The publisher's own CPU: it shares the cores with what it measures.
            measured.publisher_cpu_s = time.process_time() - own_before
            total = await drain(pool.ports, measured.published_readings)
            cpu_per_reading = (pool.cpu_seconds() - cpu_before) / max(1, total)
        rows, distinct = await asyncio.to_thread(baselines.stored_count, database_url)
        naive_rows, naive_s = await asyncio.to_thread(baselines.naive_inserts, database_url)
        copy_rows, copy_s = await asyncio.to_thread(baselines.bare_copy, database_url)
    _report(
        options, measured, rows, distinct, naive_rows / naive_s, copy_rows / copy_s, cpu_per_reading, log_dir
    )
    return 0 if rows == measured.published_readings == distinct else 1


def _report(options, measured, rows, distinct, naive_rate, copy_rate, cpu_per_reading, log_dir) -> None:
    sustained = measured.window_stored / measured.window_s
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
        f"machine load:     {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} CPUs)\n"
        f"publisher paused {measured.paused_s:.1f} s for backpressure; worker logs in {log_dir}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_options())))
