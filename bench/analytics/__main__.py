"""`python -m bench.analytics [--rollup-days 7] [--repeat 3]`: generate the hospital, time every report."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.report_catalogue import CATALOGUE, compute
from bench.analytics.generate import analyse, generate
from bench.ingest.run import scratch_database
from core.db import create_engine
from core.reports import day_start
from core.sessions import create_sessionmaker, transaction
from devices.vitals import refresh_coverage_hours

YEAR = (date(2025, 1, 1), date(2026, 1, 1))
SOURCE_TABLE = {
    "demographics": "patients",
    "appointments-by-practitioner": "appointments",
    "appointments-by-department": "appointments",
    "consultation-durations": "encounters",
    "alarms-by-ward": "alarms",
    "device-coverage": "device_coverage_1h",
}


async def _timed(sessions, work, repeat: int) -> float:
    """The median wall time of `repeat` runs of `work(session)`, each in its own read-only transaction."""
    times = []
    for _ in range(repeat):
        async with sessions() as session:
            started = time.perf_counter()
            await work(session)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main(rollup_days: int, repeat: int) -> int:
    admin_url = os.environ.get(
        "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    async with scratch_database(admin_url) as database_url:
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        print("generating a year of a 300-bed hospital in a scratch database ...", flush=True)
        started = time.perf_counter()
        await asyncio.to_thread(generate, dsn, rollup_days=rollup_days)
        engine = create_engine(database_url)
        sessions = create_sessionmaker(engine)
        # The rollup days' hours come from their minutes, by the refresh the ingest workers run.
        async with transaction(sessions) as session:
            year_end = day_start(YEAR[1])
            await refresh_coverage_hours(
                session, since=year_end - timedelta(days=rollup_days), until=year_end
            )
        counts = await asyncio.to_thread(analyse, dsn)
        print(f"generated in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{table} {n:,}" for table, n in counts.items()), flush=True)  # fmt: skip
        print(
            f"\n{'report':32} {'range':>9} {'rows':>6} {'median':>9} {'count(*) of source':>28} {'ratio':>6}"
        )
        slowest = ("", 0.0)
        for name in CATALOGUE:
            start, end = YEAR
            rows: list[int] = []

            async def run_report(session, name=name, start=start, end=end, rows=rows) -> None:
                rows[:] = [len((await compute(session, name, start, end)).rows)]

            async def scan(session, table=SOURCE_TABLE[name]) -> None:
                await session.execute(text(f"SELECT count(*) FROM {table}"))

            report_s = await _timed(sessions, run_report, repeat)
            scan_s = await _timed(sessions, scan, repeat)
            slowest = max(slowest, (name, report_s), key=lambda item: item[1])
            span = f"{(end - start).days} d"
            print(f"{name:32} {span:>9} {rows[0]:>6} {report_s * 1000:>7.0f} ms "
                  f"{SOURCE_TABLE[name]:>17} {scan_s * 1000:>7.0f} ms {report_s / scan_s:>5.1f}x", flush=True)  # fmt: skip
        await engine.dispose()
    print(f"\nslowest report: {slowest[0]}, {slowest[1] * 1000:.0f} ms (median of {repeat}); "
          f"machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument("--rollup-days", type=int, default=7, help="days of one-minute rollups to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs per report; the median is printed")
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.rollup_days, arguments.repeat)))
