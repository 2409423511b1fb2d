"""Scripted clinical courses: how far each vital sign moves from the patient's baseline, hour
by hour after onset.

Each scenario is a list of keyframes (clinical hours after onset -> offsets per metric alias),
interpolated linearly and held after the last one. A time scale compresses the clinical hours
for demos: at `DEMO_TIME_SCALE` twelve clinical hours pass in one minute.

NEWS2 (Royal College of Physicians, 2017) scores respiration rate, SpO2, systolic pressure,
pulse and temperature; the deteriorating scenarios move those parameters into its scoring
bands so the aggregate score rises: from 0 for a typical adult to 5 or more (urgent response)
within a few clinical hours and to 7 or more (emergency response) at the end.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ScenarioName = Literal[
    "stable", "sepsis", "septic_shock", "respiratory_failure", "hypotension", "bradycardia"
]
SCENARIO_NAMES: tuple[ScenarioName, ...] = (
    "stable",
    "sepsis",
    "septic_shock",
    "respiratory_failure",
    "hypotension",
    "bradycardia",
)
# Twelve clinical hours per real minute: a demo patient raises its first alarm 30-45 s after onset.
DEMO_TIME_SCALE = 720.0

Keyframes = tuple[tuple[float, Mapping[str, float]], ...]

_KEYFRAMES: dict[str, Keyframes] = {
    "stable": ((0.0, {}),),
    # Sepsis with fever: the inflammatory response raises temperature, heart and breathing rate
    # (tachypnoea is often the first sign); vasodilatation lowers the pressure and lung
    # involvement lets SpO2 drift down. At 6 h a typical adult scores about 9 (HR 112: 2,
    # RR 26: 3, SBP 94: 2, temp 38.9: 1, SpO2 93: 2).
    "sepsis": (
        (0.0, {}),
        (1.0, {"hr": 8, "rr": 2, "temp": 0.6}),
        (3.0, {"hr": 22, "rr": 6, "temp": 1.5, "sbp": -10, "dbp": -6, "spo2": -1.5}),
        (6.0, {"hr": 40, "rr": 11, "temp": 2.1, "sbp": -28, "dbp": -16, "spo2": -4}),
        (9.0, {"hr": 50, "rr": 14, "temp": 2.3, "sbp": -40, "dbp": -22, "spo2": -6}),
    ),
    # Septic shock: fever at first, then hypothermia (a sign of a worse prognosis) while the
    # pressure keeps falling despite a compensating tachycardia. Temperature below 35 °C
    # scores 3 in NEWS2 on its own.
    "septic_shock": (
        (0.0, {}),
        (1.0, {"hr": 10, "rr": 3, "temp": 1.0}),
        (3.0, {"hr": 30, "rr": 8, "temp": 1.8, "sbp": -20, "dbp": -12, "spo2": -2}),
        (5.0, {"hr": 45, "rr": 12, "temp": 0.5, "sbp": -40, "dbp": -24, "spo2": -5}),
        (7.0, {"hr": 55, "rr": 16, "temp": -1.2, "sbp": -55, "dbp": -32, "spo2": -8}),
        (9.0, {"hr": 60, "rr": 18, "temp": -2.0, "sbp": -60, "dbp": -35, "spo2": -10}),
    ),
    # Type 1 respiratory failure (pneumonia, ARDS): breathing speeds up to defend oxygenation
    # while SpO2 falls; sympathetic drive raises pulse and at first pressure, until exhaustion.
    "respiratory_failure": (
        (0.0, {}),
        (1.0, {"rr": 3, "spo2": -2, "hr": 5}),
        (3.0, {"rr": 9, "spo2": -6, "hr": 15, "sbp": 8}),
        (5.0, {"rr": 16, "spo2": -11, "hr": 28, "sbp": 10}),
        (7.0, {"rr": 20, "spo2": -15, "hr": 35, "sbp": -5}),
    ),
    # Hypotension from volume loss (bleeding, dehydration): pressure falls over a few hours, the
    # heart speeds up to compensate and breathing follows the developing acidosis.
    "hypotension": (
        (0.0, {}),
        (0.5, {"sbp": -10, "dbp": -6, "hr": 8}),
        (1.5, {"sbp": -30, "dbp": -18, "hr": 22, "rr": 3}),
        (3.0, {"sbp": -45, "dbp": -27, "hr": 35, "rr": 6, "spo2": -1}),
    ),
    # Bradycardia (heart block, beta-blocker or digoxin excess, raised intracranial pressure): the
    # rate falls over two or three hours and the pressure follows once output cannot keep up.
    "bradycardia": (
        (0.0, {}),
        (1.0, {"hr": -15}),
        (2.0, {"hr": -30, "sbp": -8, "dbp": -5}),
        (3.0, {"hr": -40, "sbp": -25, "dbp": -15, "rr": 2}),
    ),
}


@dataclass(frozen=True, slots=True)
class Scenario:
    """A clinical course as keyframes of offsets from baseline."""

    name: str
    keyframes: Keyframes

    def offsets_at(self, hours: float) -> dict[str, float]:
        """The offset of each metric `hours` clinical hours after onset (empty before onset)."""
        frames = self.keyframes
        if hours <= frames[0][0]:
            return dict(frames[0][1])
        if hours >= frames[-1][0]:
            return dict(frames[-1][1])
        index = bisect.bisect_right([time for time, _ in frames], hours)
        (time0, before), (time1, after) = frames[index - 1], frames[index]
        share = (hours - time0) / (time1 - time0)
        return {
            alias: before.get(alias, 0.0) + (after.get(alias, 0.0) - before.get(alias, 0.0)) * share
            for alias in before.keys() | after.keys()
        }


def scenario(name: str) -> Scenario:
    """The scenario of that name; ValueError listing the known ones otherwise."""
    try:
        return Scenario(name, _KEYFRAMES[name])
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIO_NAMES)}") from None
