"""NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017).

Each band below is the RCP chart's row for one parameter. Device values arrive with decimals,
the chart is drawn in whole numbers (one decimal for temperature), so values are rounded half
up to the chart's precision before they are banded: 90.5 beats/min scores as 91.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


class Consciousness(enum.StrEnum):
    """ACVPU: alert, or new confusion, voice, pain, unresponsive (any but alert scores 3)."""

    ALERT = "A"
    NEW_CONFUSION = "C"
    VOICE = "V"
    PAIN = "P"
    UNRESPONSIVE = "U"


class SpO2Scale(enum.IntEnum):
    """Scale 2 is for patients with hypercapnic respiratory failure and a prescribed 88-92% target."""

    SCALE_1 = 1
    SCALE_2 = 2


class ClinicalRisk(enum.StrEnum):
    LOW = "low"
    LOW_MEDIUM = "low-medium"  # a single parameter scoring 3, aggregate 0-4
    MEDIUM = "medium"  # aggregate 5-6
    HIGH = "high"  # aggregate 7 or more


@dataclass(frozen=True, slots=True)
class News2Inputs:
    """The seven parameters; any may be missing, which makes the score incomplete."""

    respiration_rate: float | None = None
    spo2: float | None = None
    on_oxygen: bool | None = None
    systolic_bp: float | None = None
    pulse: float | None = None
    consciousness: Consciousness | None = None
    temperature_c: float | None = None
    spo2_scale: SpO2Scale = SpO2Scale.SCALE_1


@dataclass(frozen=True, slots=True)
class News2Score:
    total: int
    risk: ClinicalRisk
    parameter_scores: dict[str, int]
    missing: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return not self.missing


# Rounding through Decimal costs a few microseconds a value, and the live evaluator rounds every new
# value several times (its quiet check scores SpO2 on every scale): monitors send few distinct values.
@functools.lru_cache(maxsize=16384)
def _whole(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@functools.lru_cache(maxsize=16384)
def _tenths(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def score_respiration_rate(per_minute: float) -> int:
    rate = _whole(per_minute)
    if rate <= 8:
        return 3
    if rate <= 11:
        return 1
    if rate <= 20:
        return 0
    if rate <= 24:
        return 2
    return 3


def score_spo2(percent: float, *, on_oxygen: bool, scale: SpO2Scale = SpO2Scale.SCALE_1) -> int:
    saturation = _whole(percent)
    if scale is SpO2Scale.SCALE_1:
        if saturation <= 91:
            return 3
        if saturation <= 93:
            return 2
        if saturation <= 95:
            return 1
        return 0
    if saturation <= 83:
        return 3
    if saturation <= 85:
        return 2
    if saturation <= 87:
        return 1
    # From 88% up, scale 2 scores 0 on air; on oxygen, saturation above the 88-92% target scores.
    if saturation <= 92 or not on_oxygen:
        return 0
    if saturation <= 94:
        return 1
    if saturation <= 96:
        return 2
    return 3


def score_air_or_oxygen(on_oxygen: bool) -> int:
    return 2 if on_oxygen else 0


def score_systolic_bp(mm_hg: float) -> int:
    pressure = _whole(mm_hg)
    if pressure <= 90:
        return 3
    if pressure <= 100:
        return 2
    if pressure <= 110:
        return 1
    if pressure <= 219:
        return 0
    return 3


def score_pulse(per_minute: float) -> int:
    rate = _whole(per_minute)
    if rate <= 40:
        return 3
    if rate <= 50:
        return 1
    if rate <= 90:
        return 0
    if rate <= 110:
        return 1
    if rate <= 130:
        return 2
    return 3


def score_consciousness(level: Consciousness) -> int:
    return 0 if level is Consciousness.ALERT else 3


def score_temperature(celsius: float) -> int:
    temperature = _tenths(celsius)
    if temperature <= Decimal("35.0"):
        return 3
    if temperature <= Decimal("36.0"):
        return 1
    if temperature <= Decimal("38.0"):
        return 0
    if temperature <= Decimal("39.0"):
        return 1
    return 2


def clinical_risk(total: int, parameter_scores: dict[str, int]) -> ClinicalRisk:
    """The RCP's trigger bands; a single red score (3) raises an otherwise low aggregate."""
    if total >= 7:
        return ClinicalRisk.HIGH
    if total >= 5:
        return ClinicalRisk.MEDIUM
    if 3 in parameter_scores.values():
        return ClinicalRisk.LOW_MEDIUM
    return ClinicalRisk.LOW


def score_news2(inputs: News2Inputs) -> News2Score:
    """Scores what is present; `missing` names the parameters that were not available."""
    scores: dict[str, int] = {}
    missing: list[str] = []
    if inputs.respiration_rate is not None:
        scores["respiration_rate"] = score_respiration_rate(inputs.respiration_rate)
    else:
        missing.append("respiration_rate")
    if inputs.spo2 is not None and (inputs.spo2_scale is SpO2Scale.SCALE_1 or inputs.on_oxygen is not None):
        on_oxygen = bool(inputs.on_oxygen)
        scores["spo2"] = score_spo2(inputs.spo2, on_oxygen=on_oxygen, scale=inputs.spo2_scale)
    else:
        # Scale 2 bands saturations above 92% by whether oxygen is given, so it must be known.
        missing.append("spo2")
    if inputs.on_oxygen is not None:
        scores["air_or_oxygen"] = score_air_or_oxygen(inputs.on_oxygen)
    else:
        missing.append("air_or_oxygen")
    if inputs.systolic_bp is not None:
        scores["systolic_bp"] = score_systolic_bp(inputs.systolic_bp)
    else:
        missing.append("systolic_bp")
    if inputs.pulse is not None:
        scores["pulse"] = score_pulse(inputs.pulse)
    else:
        missing.append("pulse")
    if inputs.consciousness is not None:
        scores["consciousness"] = score_consciousness(inputs.consciousness)
    else:
        missing.append("consciousness")
    if inputs.temperature_c is not None:
        scores["temperature"] = score_temperature(inputs.temperature_c)
    else:
        missing.append("temperature")
    total = sum(scores.values())
    return News2Score(
        total=total, risk=clinical_risk(total, scores), parameter_scores=scores, missing=tuple(missing)
    )
