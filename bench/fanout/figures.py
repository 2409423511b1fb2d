"""A step's figures as one flat row, the capacity rule, and the curve's table.

Pure functions of the figures, so that the rule and the table are tested without a run. Latencies
are in ms (NaN when nothing was measured), CPU as a share of one core.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from bench.fanout.report import alarm_bus_latencies, alarm_latencies

Row = dict[str, Any]
# The limits: a dashboard's reading within a quarter of a second, an alarm within half of one.
READING_P99_MS = 250.0
ALARM_P99_MS = 500.0


@dataclass(frozen=True, slots=True)
class Rule:
    """Within capacity: both p99s under their limits and nothing missing (readings or alarms)."""

    reading_p99_ms: float = READING_P99_MS
    alarm_p99_ms: float = ALARM_P99_MS

    def failures(self, row: Row) -> list[str]:
        """Why a step is past capacity; empty when it is within."""
        if row.get("error"):
            return [f"failed: {row['error']}"]
        reasons = []
        if not row["reading_p99_ms"] < self.reading_p99_ms:  # NaN (nothing arrived) fails too
            reasons.append(f"reading p99 {_ms(row['reading_p99_ms'])} ms")
        if row["alarms_expected"] and not row["alarm_p99_ms"] < self.alarm_p99_ms:
            reasons.append(f"alarm p99 {_ms(row['alarm_p99_ms'])} ms")
        if row["readings_missing"]:
            reasons.append(f"{row['readings_missing']:,} readings missing")
        if row["alarms_delivered"] < row["alarms_expected"]:
            reasons.append(f"{row['alarms_expected'] - row['alarms_delivered']} alarm deliveries missing")
        return reasons

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def summarise(step: Any) -> Row:
    """The figures of a step (`bench.fanout.step.Step`) as a JSON-ready row."""
    ownat, bare, plan, mqtt = step.ownat, step.bare, step.plan, step.mqtt
    alarms, alarms_expected = alarm_latencies(ownat, plan)
    alarms_bus = alarm_bus_latencies(ownat, plan)
    complete, clients, missing, extra = ownat.completeness()
    b_complete, b_clients, b_missing, _ = bare.completeness()
    expected = sum(ownat.published.by_ward[w] for r in ownat.clients for w, _n in r["received"])
    cpu = [*ownat.cpu, math.nan, math.nan]
    return {
        "devices": step.options.devices, "clients": step.options.clients, "wards": len(plan.wards),
        "reading_p50_ms": ownat.quantile_ms(0.5), "reading_p99_ms": ownat.quantile_ms(0.99),
        "reading_max_ms": ownat.max_ms(),
        "reading_redis_p50_ms": ownat.tap.quantile_ms(0.5), "reading_redis_p99_ms": ownat.tap.quantile_ms(0.99),
        "alarm_p50_ms": _quantile(alarms, 0.5), "alarm_p99_ms": _quantile(alarms, 0.99),
        "alarms_delivered": len(alarms), "alarms_expected": alarms_expected,
        "alarm_redis_p50_ms": _quantile(alarms_bus, 0.5), "alarm_redis_p99_ms": _quantile(alarms_bus, 0.99),
        "clients_complete": complete, "clients_total": clients, "readings_expected": expected,
        "readings_missing": missing, "readings_extra": extra,
        "closed": sum(len(r["closed"]) for r in ownat.clients), "messages_per_s": ownat.messages_per_s(),
        "cpu_ingest": cpu[0], "cpu_api": cpu[1],
        "baseline_p50_ms": bare.quantile_ms(0.5), "baseline_p99_ms": bare.quantile_ms(0.99),
        "baseline_clients_complete": b_complete, "baseline_clients_total": b_clients,
        "baseline_missing": b_missing, "baseline_messages_per_s": bare.messages_per_s(),
        "baseline_cpu": (bare.cpu or [math.nan])[0],
        "mqtt": None if mqtt is None else mqtt.as_dict(),
        "load_avg": ownat.load_avg,
    }  # fmt: skip


def failed(options: Any, error: BaseException) -> Row:
    """The row of a step that could not complete."""
    return {
        "devices": options.devices,
        "clients": options.clients,
        "error": f"{type(error).__name__}: {error}",
    }


def collapsed(row: Row) -> bool:
    """A step that failed outright, or whose dashboards missed more than half of their readings."""
    return bool(row.get("error")) or row["readings_missing"] * 2 > row["readings_expected"]


def capacity(rows: list[Row], rule: Rule) -> tuple[Row | None, list[Row]]:
    """The largest step within the rule, and the steps past it (every step when none is within)."""
    within = [r for r in rows if not rule.failures(r)]
    best = max(within, key=lambda r: r["devices"], default=None)
    past = [r for r in rows if best is None or r["devices"] > best["devices"]]
    return best, past


# (title, width): widths fixed, so that rows printed one by one as steps end line up.
COLUMNS = (
    ("devices", 7), ("clients", 7), ("reading p50/p99", 15), ("->Redis", 9), ("alarm p50/p99", 13),
    ("->Redis", 9), ("complete", 11), ("missing r/a", 11), ("cpu ingest/api", 14), ("bare p50/p99", 12),
    ("bare complete", 13), ("bare cpu", 8), ("mqtt msg/s rcv/offered", 22), ("mqtt p99", 8),
    ("mqtt cpu", 8), ("load", 5), ("within", 9),
)  # fmt: skip


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"  # NaN: nothing measured


def _pct(value: float) -> str:
    return "-" if value != value else f"{value:.0%}"


def _cells(row: Row, rule: Rule) -> list[str]:
    head = [f"{row['devices']:,}", f"{row['clients']:,}"]
    if row.get("error"):
        return [*head, *[""] * (len(COLUMNS) - 3), "failed"]
    mqtt = row["mqtt"]
    within = "collapsed" if collapsed(row) else "no" if rule.failures(row) else "yes"
    return [
        *head,
        f"{_ms(row['reading_p50_ms'])}/{_ms(row['reading_p99_ms'])}",
        f"{_ms(row['reading_redis_p50_ms'])}/{_ms(row['reading_redis_p99_ms'])}",
        f"{_ms(row['alarm_p50_ms'])}/{_ms(row['alarm_p99_ms'])}",
        f"{_ms(row['alarm_redis_p50_ms'])}/{_ms(row['alarm_redis_p99_ms'])}",
        f"{row['clients_complete']}/{row['clients_total']}",
        f"{row['readings_missing']:,}/{row['alarms_expected'] - row['alarms_delivered']}",
        f"{_pct(row['cpu_ingest'])}/{_pct(row['cpu_api'])}",
        f"{_ms(row['baseline_p50_ms'])}/{_ms(row['baseline_p99_ms'])}",
        f"{row['baseline_clients_complete']}/{row['baseline_clients_total']}",
        _pct(row["baseline_cpu"]),
        "-" if mqtt is None else f"{mqtt['received_per_s']:,.0f}/{mqtt['offered_per_s']:,.0f}",
        "-" if mqtt is None else _ms(mqtt["p99_ms"]),
        "-" if mqtt is None else _pct(mqtt["cpu"]),
        f"{row['load_avg']:.1f}",
        within,
    ]


def header() -> str:
    return "  ".join(title.rjust(width) for title, width in COLUMNS)


def table_row(row: Row, rule: Rule) -> str:
    return "  ".join(cell.rjust(width) for cell, (_t, width) in zip(_cells(row, rule), COLUMNS, strict=True))


def verdict(rows: list[Row], rule: Rule) -> str:
    """The capacity and the steps past it, with why, in words."""
    best, past = capacity(rows, rule)
    limits = (
        f"reading p99 < {rule.reading_p99_ms:g} ms, alarm p99 < {rule.alarm_p99_ms:g} ms, nothing missing"
    )
    if best is None:
        lines = [f"capacity: none of the steps is within it ({limits})"]
    else:
        lines = [
            f"capacity: {best['devices']:,} devices, {best['clients']:,} clients "
            f"(the largest step with {limits})"
        ]
    for row in rows:
        reasons = rule.failures(row)
        if row in past:
            lines.append(f"  past capacity: {row['devices']:,} devices: {'; '.join(reasons)}")
        elif reasons:  # below the capacity, yet failing: noise, or a machine busy at that moment
            lines.append(f"  below capacity but failing: {row['devices']:,} devices: {'; '.join(reasons)}")
    return "\n".join(lines)
