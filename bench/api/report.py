"""Printing a run: what ran where, then one table per instance count with ratios to the baselines."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from bench.api.measure import Measurement, current_load_average

BASELINES = ("healthz", "bare FastAPI")


def print_header(code: Path, log_dir: Path, args: argparse.Namespace) -> None:
    print(f"bench.api: code under test {code}, logs in {log_dir}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}; "
        f"load average at start {current_load_average()}"
    )
    print(
        f"{args.seconds:g} s measured after {args.warmup:g} s warm-up per figure; closed-loop connections\n"
    )


def print_table(instances: int, rows: list[Measurement]) -> None:
    base = {(r.endpoint, r.connections): r.per_second for r in rows if r.endpoint in BASELINES}
    print(f"{instances} api instance{'s' if instances > 1 else ''} (and as many bare-app processes):")
    print(
        f"{'endpoint':<25} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'/healthz':>9} "
        f"{'/bare':>7} {'server CPU':>10} {'CPU ms/req':>10} {'load gen':>8}  {'load avg':<15} notes"
    )
    for r in rows:
        healthz = base.get(("healthz", r.connections))
        bare = base.get(("bare FastAPI", r.connections))
        notes = [f"{n} x {s}" for s, n in sorted(r.errors.items())]
        if r.exhausted:
            notes.append("ran out of free slots")
        if r.generator_cpu > 0.9:
            notes.append("LOAD GENERATOR SATURATED")
        print(
            f"{r.endpoint:<25} {r.connections:>5} {r.per_second:>8,.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
            f"{_ratio(r.per_second, healthz):>9} {_ratio(r.per_second, bare):>7} {r.server_cpu:>9.0%} "
            f"{_cpu_per_request(r):>10} {r.generator_cpu:>8.0%}  {r.load_average:<15} {', '.join(notes)}"
        )
    print()


def _cpu_per_request(row: Measurement) -> str:
    # The servers' own CPU per request: less at the mercy of the machine's other load than req/s.
    return f"{row.server_cpu * 1000 / row.per_second:.2f}" if row.per_second else "-"


def _ratio(value: float, baseline: float | None) -> str:
    return f"{value / baseline:.2f}" if baseline else "-"
