"""Figures of a run: latency quantiles from the clients' histograms, completeness, alarms, the ratios."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.fanout.load import Published
from bench.fanout.run import cpu_seconds
from bench.fanout.tap import TAPPED_WARDS as TAPPED


@dataclass(slots=True)
class CpuWindow:
    """CPU time of some processes over the measured window."""

    pids: list[int]
    window_us: tuple[int, int]
    _start: list[float] = field(default_factory=list)
    _end: list[float] = field(default_factory=list)

    async def watch(self) -> None:
        """Takes the starting figures when the window opens (call `finish` when it has closed)."""
        await asyncio.sleep(max(0.0, self.window_us[0] / 1e6 - time.time()))  # until the window opens
        self._start = [cpu_seconds(pid) for pid in self.pids]

    def finish(self) -> None:
        self._end = [cpu_seconds(pid) for pid in self.pids]

    def used(self) -> list[float]:
        """Share of one core each process used in the window."""
        seconds = (self.window_us[1] - self.window_us[0]) / 1e6
        return [(e - s) / seconds for s, e in zip(self._start, self._end, strict=False)]


@dataclass(slots=True)
class Phase:
    name: str
    published: Published
    clients: list[dict[str, Any]]
    cpu: list[float]
    tap: Any = None  # a BusTap: the same readings as they came off Redis, before the hub
    load_avg: float = float("nan")  # the machine's 1-minute load average at the window's end

    @property
    def window_s(self) -> float:
        start, end = self.published.window_us
        return (end - start) / 1e6

    def histogram(self) -> Counter[int]:
        merged: Counter[int] = Counter()
        for result in self.clients:
            merged.update({int(k): v for k, v in result["histogram"].items()})
        return merged

    def quantile_ms(self, q: float) -> float:
        histogram = self.histogram()
        total, rank, seen = sum(histogram.values()), 0, 0
        rank = q * total
        for bin_ms in sorted(histogram):
            seen += histogram[bin_ms]
            if seen >= rank:
                return bin_ms + 1.0  # the bin's upper edge: never flatters
        return float("nan")

    def max_ms(self) -> float:
        return max((r["max_ms"] for r in self.clients), default=float("nan"))

    def completeness(self) -> tuple[int, int, int, int]:
        """(clients complete, clients, readings missing, readings beyond those published)."""
        expected = self.published.by_ward
        pairs = [(ward, received) for r in self.clients for ward, received in r["received"]]
        missing = sum(max(0, expected[w] - n) for w, n in pairs)
        extra = sum(max(0, n - expected[w]) for w, n in pairs)
        return sum(1 for w, n in pairs if n >= expected[w]), len(pairs), missing, extra

    def messages_per_s(self) -> float:
        return sum(r["messages"] for r in self.clients) / self.window_s

    def readings_delivered(self) -> int:
        return sum(n for r in self.clients for _w, n in r["received"])


def alarm_latencies(phase: Phase, plan: Any) -> tuple[list[float], int]:
    """Latencies (ms) from each crossing's publish to its alarm at each watching client; deliveries expected."""
    watchers = Counter(ward for _user, ward in plan.staff)
    crossed_at = {plan.patient_of_device[d]: t for d, t in phase.published.crossed_us.items()}
    # The first alarm raised for the patient at each client after the crossing (NEWS2 may follow).
    first: dict[tuple[int, int, str], int] = {}
    for process, result in enumerate(phase.clients):
        for client, patient, arrived in result["alarm_arrivals"]:
            key = (process, client, patient)
            crossed = crossed_at.get(patient)
            if crossed is not None and arrived >= crossed and arrived < first.get(key, arrived + 1):
                first[key] = arrived
    latencies = [(arrived - crossed_at[patient]) / 1000 for (_p, _c, patient), arrived in first.items()]
    expected = sum(watchers[plan.ward_of_device[device]] for device in phase.published.crossed_us)
    return sorted(latencies), expected


def alarm_bus_latencies(phase: Phase, plan: Any) -> list[float]:
    """Latencies (ms) from each crossing's publish to its raised alarm coming off Redis, before the hub."""
    if phase.tap is None:
        return []
    arrivals = phase.tap.alarm_arrivals_us
    latencies = []
    for device, crossed in phase.published.crossed_us.items():
        arrived = arrivals.get(str(plan.patient_of_device[device]))
        if arrived is not None and arrived >= crossed:
            latencies.append((arrived - crossed) / 1000)
    return sorted(latencies)


def _pick(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def print_report(options: Any, plan: Any, ownat: Phase, bare: Phase, mqtt: Any = None) -> int:
    alarms, alarms_expected = alarm_latencies(ownat, plan)
    alarms_bus = alarm_bus_latencies(ownat, plan)
    complete, clients, missing, extra = ownat.completeness()
    b_complete, b_clients, b_missing, _ = bare.completeness()
    closed = [c for r in ownat.clients for c in r["closed"]]
    p99, b_p99 = ownat.quantile_ms(0.99), bare.quantile_ms(0.99)
    print(
        f"\nload: {options.devices} devices at 1 Hz ({ownat.published.readings / max(1, ownat.published.messages):.1f} readings a message) "
        f"in {len(plan.wards)} wards, {clients} dashboard clients ({options.client_processes} processes), window {ownat.window_s:g} s "
        f"after {options.warmup_s:g} s warm-up; publisher at most {ownat.published.behind_s * 1000:.0f} ms behind schedule\n"
        f"readings -> dashboard: p50 {ownat.quantile_ms(0.5):.0f} ms, p99 {p99:.0f} ms, max {ownat.max_ms():.0f} ms "
        f"(every reading of the window at every client: {ownat.readings_delivered():,})\n"
        f"of which publish -> Redis (before the hub, {TAPPED} wards): p50 {ownat.tap.quantile_ms(0.5):.0f} ms, p99 {ownat.tap.quantile_ms(0.99):.0f} ms\n"
        f"alarms -> dashboard:   p99 {_pick(alarms, 0.99):.0f} ms, p50 {_pick(alarms, 0.5):.0f} ms, max {_pick(alarms, 1.0):.0f} ms "
        f"({len(alarms)} of {alarms_expected} deliveries of {len(ownat.published.crossed_us)} scripted crossings)\n"
        f"of which publish -> Redis (evaluated and published by the ingest worker): p50 {_pick(alarms_bus, 0.5):.0f} ms, "
        f"max {_pick(alarms_bus, 1.0):.0f} ms ({len(alarms_bus)} crossings)\n"
        f"sent to clients:       {ownat.messages_per_s():,.0f} messages/s, {ownat.readings_delivered() / ownat.window_s:,.0f} readings/s\n"
        f"completeness:          {complete} of {clients} clients got every reading of their ward; missing {missing:,}, "
        f"extra {extra:,}; resyncs {sum(r['resyncs'] for r in ownat.clients)}; closed {len(closed)} {closed[:3]}\n"
        f"cpu in window:         {', '.join(f'{n} {c:.0%}' for n, c in zip(('ingest worker', 'api', 'alarms worker'), ownat.cpu, strict=False))} of a core\n"
        f"baseline (bare websockets broadcast, {_baseline_kind(options)}, same clients, same load):\n"
        f"  readings:            p50 {bare.quantile_ms(0.5):.0f} ms, p99 {b_p99:.0f} ms, max {bare.max_ms():.0f} ms; "
        f"{bare.messages_per_s():,.0f} messages/s; {b_complete} of {b_clients} clients complete, missing {b_missing:,}; "
        f"server cpu {_share(bare.cpu)} of a core\n"
        f"{_mqtt_line(mqtt)}"
        f"ratios:                p99 ownat/baseline x{p99 / b_p99:.1f}; messages/s ownat/baseline x{ownat.messages_per_s() / max(1e-9, bare.messages_per_s()):.2f}\n"
        f"machine load:          {ownat.load_avg:.1f} at the end of Ownat's window, {os.getloadavg()[0]:.1f} now "
        f"(1-minute average, {os.cpu_count()} CPUs)",
        flush=True,
    )
    return 0 if missing == 0 and extra == 0 and len(alarms) >= alarms_expected else 1


def _baseline_kind(options: Any) -> str:
    if getattr(options, "baseline", "coalesced") == "coalesced":
        return "the hub's coalesced ward frames"
    return "a frame per device message, no coalescing"


def _share(cpu: list[float]) -> str:
    return f"{cpu[0]:.0%}" if cpu else "?"


def _mqtt_line(mqtt: Any) -> str:
    """The raw MQTT subscribe rate's line, when it was measured."""
    if mqtt is None:
        return ""
    return (
        f"raw mqtt (bare paho subscriber, the load alone, {mqtt.window_s:g} s): received {mqtt.received_per_s:,.0f} "
        f"of {mqtt.offered_per_s:,.0f} messages/s offered ({mqtt.received:,} of {mqtt.offered:,}); "
        f"publish -> callback p50 {mqtt.p50_ms:.0f} ms, p99 {mqtt.p99_ms:.0f} ms; cpu {mqtt.cpu:.0%} of a core\n"
    )
