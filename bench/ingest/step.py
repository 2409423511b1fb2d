"""One run of the ingest benchmark at one offered rate: a scratch database, fresh workers, the baselines.

Both `python -m bench.ingest` (one rate, reported in full) and `--curve` (a row per rate) call
`run_step`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ingest import baselines
from bench.ingest.load import MonitorLoad
from bench.ingest.run import Driver, Measured, Options, drain, register, scratch_database, subscribed, workers


@dataclass(slots=True)
class Outcome:
    measured: Measured
    rows: int  # readings stored
    distinct: int  # distinct (device, metric, time) keys among them
    naive_rate: float  # values/s of the naive consumer; NaN when not run
    copy_rate: float  # values/s of a bare COPY of the same rows
    cpu_per_reading_s: float  # all workers
    load_avg: float  # the machine's 1-minute load average at the window's end

    @property
    def sustained(self) -> float:
        return self.measured.window_stored / self.measured.window_s

    @property
    def lost(self) -> int:
        return self.measured.published_readings - self.rows


async def run_step(options: Options, log_dir: Path, *, naive: bool = True) -> Outcome:
    """The pipeline at `options.rate` in `log_dir`; then the baselines on the rows it stored."""
    prefix = f"ownat-bench-{secrets.token_hex(3)}:"
    device_ids = [f"bench-{secrets.token_hex(2)}-{i:05d}" for i in range(options.devices)]
    print(
        f"preparing: scratch database, {options.devices} monitors, {options.workers} worker(s), "
        f"{options.rate:,} values/s offered ...",
        flush=True,
    )
    async with scratch_database(options.postgres_url) as database_url:
        await register(database_url, device_ids)
        load = MonitorLoad(device_ids, samples=options.samples, period_s=options.period_s)
        async with workers(options, database_url, prefix, log_dir) as pool:
            await subscribed(pool.ports)
            cpu_before, own_before = pool.cpu_seconds(), time.process_time()
            measured = await Driver(options, load, pool.ports).run(prefix)
            load_avg = os.getloadavg()[0]
            # The publisher's own CPU: it shares the cores with what it measures.
            measured.publisher_cpu_s = time.process_time() - own_before
            total = await drain(pool.ports, measured.published_readings)
            cpu_per_reading = (pool.cpu_seconds() - cpu_before) / max(1, total)
        rows, distinct = await asyncio.to_thread(baselines.stored_count, database_url)
        naive_rate = float("nan")
        if naive:
            naive_rows, naive_s = await asyncio.to_thread(baselines.naive_inserts, database_url)
            naive_rate = naive_rows / naive_s
        copy_rows, copy_s = await asyncio.to_thread(baselines.bare_copy, database_url)
    return Outcome(
        measured=measured, rows=rows, distinct=distinct, naive_rate=naive_rate, copy_rate=copy_rows / copy_s,
        cpu_per_reading_s=cpu_per_reading, load_avg=load_avg,
    )  # fmt: skip
