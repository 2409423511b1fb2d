"""A simulated bed, second by second: physiology, a clinical course, and the artefacts of real monitors.

True values are the patient's baseline (`devices.simulator.physiology`), the course's offsets
(`devices.simulator.scenarios`, in clinical time) and a slow drift; measured values add noise,
rounding as a monitor displays them, and artefacts at rates per hour:
- motion (2-8 s): heart rate reads 20-50/min high, SpO2 4-12 % low;
- probe dips (3-15 s): SpO2 reads 75-90 % (a probe half off, cold fingers);
- probe off (10-60 s): no SpO2; half of the time the monitor says so (sensor off), half not;
- respiration spikes (1-4 s): impedance rate reads 28-45/min (talking, moving);
- a lost reading now and then.
Heart rate, SpO2 and respiration rate come every second; the cuff every 5 minutes, the
temperature every 15 minutes.

A crossing is the first second at which the true values reach an RCP trigger: an aggregate NEWS2
of 5 (an urgent review), or a value beyond its alarm limit (the default limits are the values
scoring 3, the "single red parameter"). Cuff pressure and temperature count as last measured
(the first cycle after the true value crossed: a monitor cannot know sooner).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from devices.simulator import DYNAMICS, draw_patient, scenario
from realtime.alarms import HR, RR, SBP, SPO2, TEMP, Consciousness, Limits, News2Inputs, breached, score_news2

CONTINUOUS = {"hr": HR, "spo2": SPO2, "rr": RR}
INTERMITTENT = {"sbp": (SBP, 300), "temp": (TEMP, 900)}
DECIMALS = {"hr": 0, "spo2": 0, "rr": 0, "sbp": 0, "temp": 1}
# Artefact episodes per hour of monitoring.
RATES_PER_H = {"motion": 4.0, "dip": 3.0, "probe_off": 1.0, "rr_spike": 4.0}
MISSING = 0.002


@dataclass(frozen=True, slots=True)
class Reading:
    metric: str
    value: float
    time: datetime


@dataclass(frozen=True, slots=True)
class Second:
    """One second of a bed: its readings, whether the SpO2 sensor reports itself off, and whether a
    true value is beyond its limit when measured."""

    at: datetime
    readings: list[Reading]
    sensor_off: bool
    crossed: bool


def urgent(true_values: dict[str, float]) -> bool:
    """True values scoring a NEWS2 of 5 or more (alert, on air: what the bench's charting says)."""
    inputs = News2Inputs(
        respiration_rate=true_values["rr"],
        spo2=true_values["spo2"],
        on_oxygen=False,
        systolic_bp=true_values["sbp"],
        pulse=true_values["hr"],
        consciousness=Consciousness.ALERT,
        temperature_c=true_values["temp"],
    )
    return score_news2(inputs).total >= 5


class SimulatedBed:
    """One patient's monitor, generating `Second`s from `start`."""

    def __init__(self, *, seed: str, course: str, onset_s: float, limits: dict[str, Limits]) -> None:
        self.rng = random.Random(seed)
        self.patient = draw_patient(self.rng, self.rng.uniform(40, 85))
        self.course = None if course == "stable" else scenario(course)
        self.onset_s = onset_s
        self.limits = limits
        self.drift = {alias: 0.0 for alias in DECIMALS}
        self.episodes: dict[str, float] = {}  # artefact -> until (elapsed seconds)
        self.sensor_reported = False
        self.last_measured_true: dict[str, float] = {}
        self.spike = {"hr": 0.0, "spo2": 0.0, "dip": 0.0, "rr": 0.0}

    def seconds(self, start: datetime, duration_s: int) -> Iterator[Second]:
        for elapsed in range(duration_s):
            yield self._second(start + timedelta(seconds=elapsed), elapsed)

    def _second(self, at: datetime, elapsed: int) -> Second:
        rng = self.rng
        offsets = {}
        if self.course is not None and elapsed >= self.onset_s:
            hours = (elapsed - self.onset_s) / 3600.0
            offsets = {a: v * self.patient.severity for a, v in self.course.offsets_at(hours).items()}
        self._start_episodes(elapsed)
        readings: list[Reading] = []
        crossed = False
        true_values: dict[str, float] = {}
        for alias in DECIMALS:
            dynamics = DYNAMICS[alias]
            # An AR(1) drift with the simulator's spread and time constant, stepped each second.
            phi = math.exp(-1.0 / dynamics.drift_tau_s)
            self.drift[alias] = self.drift[alias] * phi + rng.gauss(
                0, dynamics.drift_sd * math.sqrt(1 - phi * phi)
            )
            true = self.patient.baselines[alias] + offsets.get(alias, 0.0) + self.drift[alias]
            if alias == "spo2":
                true = min(100.0, true)
            true_values[alias] = true
            code = CONTINUOUS.get(alias) or INTERMITTENT[alias][0]
            if alias in INTERMITTENT and elapsed % INTERMITTENT[alias][1] != 0:
                # Between cuff cycles the clinical picture holds the last measured true value.
                true_values[alias] = self.last_measured_true.get(alias, true)
                continue
            self.last_measured_true[alias] = true
            if breached(self.limits[code], round(true, DECIMALS[alias])) is not None:
                crossed = True
            measured = self._measure(alias, true + rng.gauss(0, dynamics.noise_sd), elapsed)
            if measured is None or rng.random() < MISSING:
                continue
            readings.append(Reading(code, round(measured, DECIMALS[alias]), at))
        if not crossed and self.course is not None and elapsed >= self.onset_s:
            crossed = urgent(true_values)
        return Second(at, readings, self.sensor_reported and self._on("probe_off", elapsed), crossed)

    def _start_episodes(self, elapsed: int) -> None:
        rng = self.rng
        durations = {"motion": (2, 8), "dip": (3, 15), "probe_off": (10, 60), "rr_spike": (1, 4)}
        for name, per_h in RATES_PER_H.items():
            if self._on(name, elapsed) or rng.random() >= per_h / 3600.0:
                continue
            self.episodes[name] = elapsed + rng.uniform(*durations[name])
            if name == "motion":
                self.spike["hr"], self.spike["spo2"] = rng.uniform(20, 50), rng.uniform(4, 12)
            elif name == "dip":
                self.spike["dip"] = rng.uniform(75, 90)
            elif name == "rr_spike":
                self.spike["rr"] = rng.uniform(28, 45)
            elif name == "probe_off":
                self.sensor_reported = rng.random() < 0.5

    def _on(self, name: str, elapsed: int) -> bool:
        return elapsed < self.episodes.get(name, -1.0)

    def _measure(self, alias: str, value: float, elapsed: int) -> float | None:
        if alias == "spo2":
            if self._on("probe_off", elapsed):
                return None
            if self._on("dip", elapsed):
                return min(value, self.spike["dip"])
            if self._on("motion", elapsed):
                return min(100.0, value) - self.spike["spo2"]
            return min(100.0, value)
        if alias == "hr" and self._on("motion", elapsed):
            return value + self.spike["hr"]
        if alias == "rr" and self._on("rr_spike", elapsed):
            return self.spike["rr"]
        return value
