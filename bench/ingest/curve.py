"""`python -m bench.ingest --curve`: the ingest pipeline's capacity curve, one offered rate after another.

Each step is a run of its own (`bench.ingest.step.run_step`: a fresh scratch database and fresh
workers) at one offered rate, with a bare COPY of the rows it stored as its baseline (the naive
consumer is left out: ten seconds a step for a figure that does not move). Its row is printed when
it ends. Within capacity: publish-to-commit p99 under `commit_p99_ms`, at least `keeps_up` of the
offered rate sustained (the publisher pauses while the workers' backlog is full, so a pipeline that
cannot keep up shows as a sustained rate below the offered one, not as a queue), nothing lost and
nothing stored twice. The curve goes on for `beyond` failing steps in a row, and stops at a step that
collapses (fails outright, or sustains less than half of what was offered); `curve.json` in the log
directory holds every figure.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench.ingest.run import Options
from bench.ingest.step import Outcome, run_step

COMMIT_P99_MS = 250.0
KEEPS_UP = 0.85

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rule:
    commit_p99_ms: float = COMMIT_P99_MS
    keeps_up: float = KEEPS_UP  # share of the offered rate sustained

    def failures(self, row: Row) -> list[str]:
        """Why a step is past capacity; empty when it is within."""
        if row.get("error"):
            return [f"failed: {row['error']}"]
        reasons = []
        if not row["commit_p99_ms"] < self.commit_p99_ms:  # NaN (nothing committed) fails too
            reasons.append(f"publish->commit p99 {row['commit_p99_ms']:.0f} ms")
        if row["sustained"] < self.keeps_up * row["offered"]:
            reasons.append(f"sustained {row['sustained'] / row['offered']:.0%} of the offered rate")
        if row["lost"]:
            reasons.append(f"{row['lost']:,} readings lost")
        if row["duplicates"]:
            reasons.append(f"{row['duplicates']:,} stored twice")
        return reasons


def summarise(offered: int, outcome: Outcome) -> Row:
    measured = outcome.measured
    latencies = sorted(measured.latencies_s)
    per_message = measured.published_readings / max(1, measured.published_messages) or 1.0
    return {
        "offered": offered, "sustained": outcome.sustained, "messages_per_s": outcome.sustained / per_message,
        "commit_p50_ms": measured.commit_p50_s * 1000, "commit_p99_ms": measured.commit_p99_s * 1000,
        "bus_p50_ms": _pick(latencies, 0.5) * 1000, "bus_p99_ms": _pick(latencies, 0.99) * 1000,
        "copy_per_s": outcome.copy_rate, "of_copy": outcome.sustained / outcome.copy_rate,
        "published": measured.published_readings, "stored": outcome.rows, "lost": outcome.lost,
        "duplicates": outcome.rows - outcome.distinct, "worker_cpu_us": outcome.cpu_per_reading_s * 1e6,
        "paused_s": measured.paused_s, "load_avg": outcome.load_avg,
    }  # fmt: skip


def _pick(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else math.nan


def collapsed(row: Row) -> bool:
    return bool(row.get("error")) or row["sustained"] * 2 < row["offered"]


def capacity(rows: list[Row], rule: Rule) -> tuple[Row | None, list[Row]]:
    """The largest offered rate within the rule, and the steps past it (every step when none is)."""
    within = [r for r in rows if not rule.failures(r)]
    best = max(within, key=lambda r: r["offered"], default=None)
    return best, [r for r in rows if best is None or r["offered"] > best["offered"]]


COLUMNS = (
    ("offered/s", 9), ("sustained/s", 11), ("msg/s", 6), ("commit p50/p99", 14), ("bus p50/p99", 11),
    ("COPY/s", 9), ("of COPY", 7), ("published", 11), ("lost/dup", 8), ("cpu µs", 6), ("paused", 6),
    ("load", 5), ("within", 9),
)  # fmt: skip


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"


def _cells(row: Row, rule: Rule) -> list[str]:
    if row.get("error"):
        return [f"{row['offered']:,}", *[""] * (len(COLUMNS) - 2), "failed"]
    within = "collapsed" if collapsed(row) else "no" if rule.failures(row) else "yes"
    return [
        f"{row['offered']:,}", f"{row['sustained']:,.0f}", f"{row['messages_per_s']:,.0f}",
        f"{_ms(row['commit_p50_ms'])}/{_ms(row['commit_p99_ms'])}",
        f"{_ms(row['bus_p50_ms'])}/{_ms(row['bus_p99_ms'])}",
        f"{row['copy_per_s']:,.0f}", f"{row['of_copy']:.0%}", f"{row['published']:,}",
        f"{row['lost']:,}/{row['duplicates']:,}", f"{row['worker_cpu_us']:.1f}", f"{row['paused_s']:.0f} s",
        f"{row['load_avg']:.1f}", within,
    ]  # fmt: skip


def header() -> str:
    return "  ".join(title.rjust(width) for title, width in COLUMNS)


def table_row(row: Row, rule: Rule) -> str:
    return "  ".join(cell.rjust(width) for cell, (_t, width) in zip(_cells(row, rule), COLUMNS, strict=True))


def verdict(rows: list[Row], rule: Rule) -> str:
    best, past = capacity(rows, rule)
    limits = (
        f"publish->commit p99 < {rule.commit_p99_ms:g} ms, sustaining >= {rule.keeps_up:.0%} of the offered "
        "rate, nothing lost or stored twice"
    )
    lines = [
        f"capacity: none of the steps is within it ({limits})"
        if best is None
        else f"capacity: {best['offered']:,} values/s offered, {best['sustained']:,.0f} sustained "
        f"(the largest step with {limits})"
    ]
    for row in rows:
        reasons = rule.failures(row)
        if row in past:
            lines.append(f"  past capacity: {row['offered']:,} values/s: {'; '.join(reasons)}")
        elif reasons:  # below the capacity, yet failing: noise, or a machine busy at that moment
            lines.append(f"  below capacity but failing: {row['offered']:,} values/s: {'; '.join(reasons)}")
    return "\n".join(lines)


async def run_curve(base: Options, steps: list[int], *, beyond: int, rule: Rule, log_dir: Path) -> int:
    """Runs the steps in order; 0 when at least one is within capacity."""
    rows: list[Row] = []
    failing = 0
    for number, rate in enumerate(steps, 1):
        print(f"\n== step {number} of {len(steps)}: {rate:,} values/s offered", flush=True)
        try:
            row = summarise(
                rate, await run_step(replace(base, rate=rate), _step_dir(log_dir, rate), naive=False)
            )
        except Exception as error:  # a step that cannot complete is a result of the curve: record it, stop
            row = {"offered": rate, "error": f"{type(error).__name__}: {error}"}
        rows.append(row)
        print(header(), table_row(row, rule), sep="\n", flush=True)
        _write(log_dir, base, rows, rule)
        if collapsed(row):
            print(f"step {rate:,} collapsed: the curve stops here", flush=True)
            break
        failing = failing + 1 if rule.failures(row) else 0  # a lone failure between passes is noise
        if failing >= beyond:
            print(f"{failing} failing steps in a row: the curve stops here", flush=True)
            break
    print(f"\ncapacity curve (worker logs and curve.json in {log_dir}; {os.cpu_count()} CPUs)")
    print(header())
    for row in rows:
        print(table_row(row, rule))
    print(verdict(rows, rule), flush=True)
    return 0 if capacity(rows, rule)[0] is not None else 1


def _step_dir(log_dir: Path, rate: int) -> Path:
    path = log_dir / f"step-{rate}"
    path.mkdir(exist_ok=True)
    return path


def _write(log_dir: Path, base: Options, rows: list[Row], rule: Rule) -> None:
    # After every step, so that a curve cut short still leaves its figures.
    best, past = capacity(rows, rule)
    options = {k: v for k, v in asdict(base).items() if not k.endswith("_url") and k != "rate"}
    document = {
        "options": options, "rule": asdict(rule), "rows": rows,
        "capacity_offered": None if best is None else best["offered"],
        "past_capacity_offered": [r["offered"] for r in past], "cpus": os.cpu_count(),
    }  # fmt: skip
    (log_dir / "curve.json").write_text(json.dumps(document, indent=1))
