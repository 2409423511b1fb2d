"""The capacity curves' rules and tables (bench/fanout and bench/ingest), on made-up figures: no run."""

from __future__ import annotations

import math
from typing import Any

from bench.fanout import curve as fanout_curve
from bench.fanout import figures
from bench.fanout.step import Options
from bench.ingest import curve as ingest_curve


def _fanout_row(devices: int, **changes: Any) -> dict[str, Any]:
    row = {
        "devices": devices, "clients": devices // 2, "wards": devices // 25,
        "reading_p50_ms": 60.0, "reading_p99_ms": 150.0, "reading_max_ms": 190.0,
        "reading_redis_p50_ms": 50.0, "reading_redis_p99_ms": 90.0,
        "alarm_p50_ms": 100.0, "alarm_p99_ms": 200.0, "alarms_delivered": 250, "alarms_expected": 250,
        "alarm_redis_p50_ms": 80.0, "alarm_redis_p99_ms": 120.0,
        "clients_complete": devices // 2, "clients_total": devices // 2, "readings_expected": 1000,
        "readings_missing": 0, "readings_extra": 0, "closed": 0, "messages_per_s": 900.0,
        "cpu_ingest": 0.46, "cpu_api": 0.24,
        "baseline_p50_ms": 5.0, "baseline_p99_ms": 17.0, "baseline_clients_complete": devices // 2,
        "baseline_clients_total": devices // 2, "baseline_missing": 0, "baseline_messages_per_s": 2000.0,
        "baseline_cpu": 0.2,
        "mqtt": {"received_per_s": devices, "offered_per_s": devices, "p99_ms": 3.0, "cpu": 0.05},
        "load_avg": 2.1,
    }  # fmt: skip
    return {**row, **changes}


def test_a_fanout_step_within_every_limit_is_within_capacity() -> None:
    assert figures.Rule().failures(_fanout_row(1000)) == []


def test_a_fanout_step_fails_on_either_p99_or_anything_missing() -> None:
    rule = figures.Rule()
    assert rule.failures(_fanout_row(1000, reading_p99_ms=250.0)) == ["reading p99 250 ms"]
    assert rule.failures(_fanout_row(1000, reading_p99_ms=math.nan)) == ["reading p99 - ms"]
    assert rule.failures(_fanout_row(1000, alarm_p99_ms=612.0)) == ["alarm p99 612 ms"]
    assert rule.failures(_fanout_row(1000, readings_missing=3)) == ["3 readings missing"]
    assert rule.failures(_fanout_row(1000, alarms_delivered=248)) == ["2 alarm deliveries missing"]


def test_a_fanout_step_without_scripted_alarms_is_judged_on_readings_alone() -> None:
    row = _fanout_row(100, alarms_expected=0, alarms_delivered=0, alarm_p99_ms=math.nan)
    assert figures.Rule().failures(row) == []


def test_the_capacity_is_the_largest_step_within_the_rule_and_the_larger_ones_are_past_it() -> None:
    rows = [
        _fanout_row(500, reading_p99_ms=400.0),  # a busy moment: fails below capacity
        _fanout_row(1000),
        _fanout_row(2000),
        _fanout_row(3000, reading_p99_ms=420.0),
        figures.failed(Options(4000, 2000, 25, 20, 1, 1, 1, "", "", ""), RuntimeError("clients gave up")),
    ]
    best, past = figures.capacity(rows, figures.Rule())
    assert best is not None and best["devices"] == 2000
    assert [r["devices"] for r in past] == [3000, 4000]
    verdict = figures.verdict(rows, figures.Rule())
    assert verdict.splitlines()[0].startswith("capacity: 2,000 devices, 1,000 clients")
    assert "below capacity but failing: 500 devices: reading p99 400 ms" in verdict
    assert "past capacity: 4,000 devices: failed: RuntimeError: clients gave up" in verdict
    assert figures.capacity([rows[0]], figures.Rule()) == (None, [rows[0]])


def test_fanout_rows_line_up_under_the_header_and_say_whether_within() -> None:
    rule = figures.Rule()
    header = figures.header()
    within = figures.table_row(_fanout_row(2000), rule)
    past = figures.table_row(_fanout_row(3000, reading_p99_ms=420.0), rule)
    gone = figures.table_row(_fanout_row(4000, readings_missing=900), rule)
    assert len(within) == len(past) == len(gone) == len(header)
    assert within.split()[-1] == "yes" and past.split()[-1] == "no" and gone.split()[-1] == "collapsed"
    assert " 60/150 " in within and " 46%/24% " in within and " 2,000/2,000 " in within


def test_a_curve_step_has_half_as_many_clients_as_devices_by_default() -> None:
    base = Options(2000, 1000, 25, 20, 45.0, 30.0, 2, "", "", "")
    assert fanout_curve.step_options(base, 3000, 0.5).clients == 1500
    assert fanout_curve.step_options(base, 1, 0.5).clients == 1


def _ingest_row(offered: int, **changes: Any) -> dict[str, Any]:
    row = {
        "offered": offered, "sustained": offered * 0.99, "messages_per_s": offered / 48,
        "commit_p50_ms": 65.0, "commit_p99_ms": 142.0, "bus_p50_ms": 70.0, "bus_p99_ms": 150.0,
        "copy_per_s": 190_000.0, "of_copy": offered / 190_000, "published": offered * 35, "stored": offered * 35,
        "lost": 0, "duplicates": 0, "worker_cpu_us": 6.8, "paused_s": 0.0, "load_avg": 1.2,
    }  # fmt: skip
    return {**row, **changes}


def test_an_ingest_step_fails_on_its_p99_falling_behind_or_losing_anything() -> None:
    rule = ingest_curve.Rule()
    assert rule.failures(_ingest_row(60_000)) == []
    assert rule.failures(_ingest_row(60_000, commit_p99_ms=300.0)) == ["publish->commit p99 300 ms"]
    assert rule.failures(_ingest_row(100_000, sustained=80_000.0)) == ["sustained 80% of the offered rate"]
    assert rule.failures(_ingest_row(60_000, lost=5, duplicates=2)) == ["5 readings lost", "2 stored twice"]


def test_the_ingest_capacity_and_its_table() -> None:
    rule = ingest_curve.Rule()
    rows = [_ingest_row(20_000), _ingest_row(40_000), _ingest_row(60_000, sustained=25_000.0)]
    best, past = ingest_curve.capacity(rows, rule)
    assert best is not None and best["offered"] == 40_000 and past == [rows[2]]
    lines = [ingest_curve.table_row(r, rule) for r in rows]
    assert all(len(line) == len(ingest_curve.header()) for line in lines)
    assert [line.split()[-1] for line in lines] == ["yes", "yes", "collapsed"]
    assert ingest_curve.verdict(rows, rule).startswith("capacity: 40,000 values/s offered")
