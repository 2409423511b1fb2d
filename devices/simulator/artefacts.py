"""Measurement artefacts: what real monitors produce besides physiology.

- motion: a moving patient corrupts the ECG and photoplethysmogram; heart rate reads high and
  SpO2 reads falsely low for that reading;
- probe off: the SpO2 probe slips off; SpO2 (and a pulse oximeter's pulse rate) are missing
  for 10 to 60 s;
- missing: a reading lost on the device's link, at random.

Rates are probabilities per reading (probe off: per SpO2 reading, that an episode starts).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ArtefactRates:
    """Probability per reading of each artefact."""

    motion: float = 0.005
    probe_off: float = 0.001
    missing: float = 0.002

    def __post_init__(self) -> None:
        for name in ("motion", "probe_off", "missing"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"artefact rate {name} must be between 0 and 1")

    @classmethod
    def none(cls) -> ArtefactRates:
        """Clean signals, for tests and benchmarks that compare values."""
        return cls(motion=0.0, probe_off=0.0, missing=0.0)


PROBE_OFF_MIN_S = 10.0
PROBE_OFF_MAX_S = 60.0


class ArtefactState:
    """One device's artefacts: its own random stream, so physiology is unchanged by artefact settings."""

    __slots__ = ("_missing", "_motion", "_probe_off", "_rng", "probe_off_until")

    def __init__(self, rates: ArtefactRates, rng: random.Random) -> None:
        self._motion = rates.motion
        self._probe_off = rates.probe_off
        self._missing = rates.missing
        self._rng = rng
        self.probe_off_until = float("-inf")

    def distort(self, alias: str, value: float, now_s: float, oximeter_pulse: bool) -> float | None:
        """The value as the device reports it, or None when the reading is lost."""
        rng = self._rng
        if self._missing and rng.random() < self._missing:
            return None
        if alias == "spo2" or (oximeter_pulse and alias == "hr"):
            if now_s < self.probe_off_until:
                return None
            if alias == "spo2" and self._probe_off and rng.random() < self._probe_off:
                self.probe_off_until = now_s + rng.uniform(PROBE_OFF_MIN_S, PROBE_OFF_MAX_S)
                return None
        if self._motion and alias in ("hr", "spo2") and rng.random() < self._motion:
            return value + rng.uniform(25, 60) if alias == "hr" else value - rng.uniform(5, 15)
        return value
