"""A simulated patient's physiology: age-appropriate baselines, slow drift, measurement noise and
the daily rhythm of each vital sign.

Values are in the stored unit of `devices.protocol` (LOINC-coded metrics). The numbers are
typical resting values from paediatric and adult reference ranges, rounded; they aim at
plausible monitor traces, not at a validated physiological model.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

# Metric aliases the simulator produces, in the order a bedside monitor lists them.
METRIC_ALIASES = ("hr", "spo2", "rr", "sbp", "dbp", "temp", "weight")

# Resting baselines by age (years): hr, rr, sbp, dbp, spo2, weight (kg). Interpolated linearly;
# adults slow their heart and breathing little with age, but systolic pressure rises.
_AGE_TABLE: tuple[tuple[float, dict[str, float]], ...] = (
    (1, {"hr": 120, "rr": 30, "sbp": 90, "dbp": 55, "spo2": 98.0, "weight": 10}),
    (5, {"hr": 100, "rr": 22, "sbp": 100, "dbp": 62, "spo2": 98.0, "weight": 18}),
    (12, {"hr": 85, "rr": 18, "sbp": 110, "dbp": 68, "spo2": 98.0, "weight": 40}),
    (18, {"hr": 72, "rr": 15, "sbp": 116, "dbp": 72, "spo2": 98.0, "weight": 68}),
    (40, {"hr": 72, "rr": 15, "sbp": 122, "dbp": 78, "spo2": 97.5, "weight": 78}),
    (65, {"hr": 70, "rr": 16, "sbp": 135, "dbp": 80, "spo2": 96.5, "weight": 77}),
    (90, {"hr": 70, "rr": 17, "sbp": 142, "dbp": 76, "spo2": 96.0, "weight": 68}),
)
_AGES = [age for age, _ in _AGE_TABLE]
BODY_TEMPERATURE_C = 36.8


@dataclass(frozen=True, slots=True)
class MetricDynamics:
    """How one vital sign moves around its baseline."""

    # Spread of baselines between patients (standard deviation).
    between_patients_sd: float
    # Slow wandering (an AR(1) process): its standard deviation and time constant.
    drift_sd: float
    drift_tau_s: float
    # Beat-to-beat or measurement scatter of a single reading.
    noise_sd: float
    # Daily rhythm: amplitude and the local hour of the peak.
    circadian_amplitude: float
    circadian_peak_hour: float
    # What a real device can display, tighter than the protocol's possible range.
    low: float
    high: float
    decimals: int


# Heart rate and temperature are lowest in the early morning (about 04:00) and highest in the
# late afternoon; blood pressure dips by about a tenth at night ("dipping").
DYNAMICS: dict[str, MetricDynamics] = {
    "hr": MetricDynamics(8.0, 3.0, 600, 1.5, 6.0, 16.0, 25, 250, 0),
    "spo2": MetricDynamics(0.6, 0.5, 900, 0.4, 0.3, 16.0, 50, 100, 0),
    "rr": MetricDynamics(1.5, 1.0, 600, 0.8, 1.0, 15.0, 4, 70, 0),
    "sbp": MetricDynamics(10.0, 5.0, 1200, 3.0, 8.0, 15.0, 50, 250, 0),
    "dbp": MetricDynamics(7.0, 3.0, 1200, 2.0, 5.0, 15.0, 25, 150, 0),
    "temp": MetricDynamics(0.25, 0.1, 1800, 0.05, 0.3, 17.0, 32, 43, 1),
    "weight": MetricDynamics(0.0, 0.3, 86400, 0.1, 0.0, 0.0, 0.5, 400, 1),
}


@dataclass(frozen=True, slots=True)
class Patient:
    """The simulated patient behind a device: age and resting baselines per metric alias."""

    age_years: float
    baselines: dict[str, float]
    # How strongly this patient's body follows a scenario (0.8 = milder, 1.2 = sicker).
    severity: float


def draw_patient(rng: random.Random, age_years: float | None = None) -> Patient:
    """A patient with baselines appropriate for the age (drawn between 25 and 90 when not given)."""
    age = age_years if age_years is not None else rng.uniform(25, 90)
    typical = _typical_for_age(age)
    baselines = {alias: typical[alias] + _spread(rng, alias) for alias in ("hr", "rr", "sbp", "dbp")}
    baselines["spo2"] = min(99.5, typical["spo2"] + _spread(rng, "spo2"))
    baselines["temp"] = BODY_TEMPERATURE_C + _spread(rng, "temp")
    # Body weight varies multiplicatively (a log-normal spread of about 15 %).
    baselines["weight"] = typical["weight"] * math.exp(max(-0.3, min(0.3, rng.gauss(0, 0.15))))
    # Keep a pulse pressure of at least 25 mmHg whatever the draws.
    baselines["dbp"] = min(baselines["dbp"], baselines["sbp"] - 25)
    return Patient(age_years=age, baselines=baselines, severity=rng.uniform(0.8, 1.2))


def circadian_offsets(local_hour: float) -> dict[str, float]:
    """Each metric's daily-rhythm offset at a local time of day (hours, 0 to 24)."""
    return {
        alias: d.circadian_amplitude * math.cos(2 * math.pi * (local_hour - d.circadian_peak_hour) / 24)
        for alias, d in DYNAMICS.items()
    }


def _spread(rng: random.Random, alias: str) -> float:
    # Truncated at two standard deviations: a "stable" patient should not start in an alarm band.
    return max(-2.0, min(2.0, rng.gauss(0, 1))) * DYNAMICS[alias].between_patients_sd


def _typical_for_age(age: float) -> dict[str, float]:
    if age <= _AGES[0]:
        return dict(_AGE_TABLE[0][1])
    if age >= _AGES[-1]:
        return dict(_AGE_TABLE[-1][1])
    upper = bisect.bisect_right(_AGES, age)
    (age0, low), (age1, high) = _AGE_TABLE[upper - 1], _AGE_TABLE[upper]
    share = (age - age0) / (age1 - age0)
    return {alias: low[alias] + (high[alias] - low[alias]) * share for alias in low}
