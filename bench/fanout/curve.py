"""`python -m bench.fanout --curve`: the fan-out's capacity curve, one load step after another.

Each step is a whole run of its own (`bench.fanout.step.run_step`: a fresh scratch database, fresh
services, the baselines); its figures are printed as one row of the table when it ends. The curve
goes on past capacity for `beyond` failing steps in a row, to show how Ownat degrades there, and
stops at a step that collapses (fails outright, or its dashboards miss more than half of their readings). Then
the whole table again, the capacity (`figures.Rule`) and the steps past it; `curve.json` in the log
directory holds every figure.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

from bench.fanout import figures
from bench.fanout.step import Options, run_step


def step_options(base: Options, devices: int, clients_ratio: float) -> Options:
    """A step's options: `devices`, and dashboards in proportion."""
    return replace(base, devices=devices, clients=max(1, round(devices * clients_ratio)))


async def run_curve(
    base: Options, steps: list[int], *, clients_ratio: float, beyond: int, rule: figures.Rule, log_dir: Path
) -> int:
    """Runs the steps in order; 0 when at least one is within capacity."""
    rows: list[figures.Row] = []
    past_capacity = 0
    for number, devices in enumerate(steps, 1):
        options = step_options(base, devices, clients_ratio)
        print(
            f"\n== step {number} of {len(steps)}: {devices:,} devices, {options.clients:,} clients",
            flush=True,
        )
        started = time.monotonic()
        try:
            row = figures.summarise(await run_step(options, _step_dir(log_dir, devices)))
        except Exception as error:  # a step that cannot complete is a result of the curve: record it, stop
            row = figures.failed(options, error)
        row["step_s"] = time.monotonic() - started
        rows.append(row)
        print(figures.header(), figures.table_row(row, rule), sep="\n", flush=True)
        _write(log_dir, base, steps, rows, rule)
        if figures.collapsed(row):
            print(f"step {devices:,} collapsed: the curve stops here", flush=True)
            break
        # Failing steps in a row: a lone failure between passing steps is noise, not the capacity.
        past_capacity = past_capacity + 1 if rule.failures(row) else 0
        if past_capacity >= beyond:
            print(f"{past_capacity} failing steps in a row: the curve stops here", flush=True)
            break
    print(f"\ncapacity curve (logs and curve.json in {log_dir}; {os.cpu_count()} CPUs)", flush=True)
    print(figures.header())
    for row in rows:
        print(figures.table_row(row, rule))
    print(figures.verdict(rows, rule), flush=True)
    best, _past = figures.capacity(rows, rule)
    return 0 if best is not None else 1


def _step_dir(log_dir: Path, devices: int) -> Path:
    path = log_dir / f"step-{devices}"
    path.mkdir(exist_ok=True)
    return path


def _write(
    log_dir: Path, base: Options, steps: list[int], rows: list[figures.Row], rule: figures.Rule
) -> None:
    # After every step, so that a curve cut short still leaves its figures.
    best, past = figures.capacity(rows, rule)
    document = {
        "options": {k: v for k, v in asdict(base).items() if not k.endswith("_url") and k not in ("devices", "clients")},
        "steps": steps, "rule": rule.as_dict(), "rows": rows,
        "capacity_devices": None if best is None else best["devices"],
        "past_capacity_devices": [r["devices"] for r in past], "cpus": os.cpu_count(),
    }  # fmt: skip
    (log_dir / "curve.json").write_text(json.dumps(document, indent=1))
