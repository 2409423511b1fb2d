"""Default alarm limits by age group, used until a clinician sets a patient's own.

Sources, kept deliberately conservative (they alarm at or before the point the source calls abnormal):
- Adults and older adults: the values that score 3 ("red") on the RCP NEWS2 chart (2017) for a single
  parameter, which the RCP says warrant an urgent clinical review on their own. Older adults (65+)
  alarm at a higher systolic pressure (100 mmHg), since hypotension is less well tolerated.
- Adolescents, children, infants: the APLS normal ranges by age (Advanced Life Support Group,
  Advanced Paediatric Life Support, 6th ed.) widened by roughly one centile band of Fleming et al.,
  "Normal ranges of heart rate and respiratory rate in children", Lancet 2011;377:1011-18.
- Temperature: NICE NG143 (fever in under 5s): 38.0 °C and above in infants is a red flag.
- Condition delays (how long a crossing must persist before it raises), by metric:
  SpO2 20 s: desaturations shorter than 15-30 s are mostly motion and probe artefact; Welch
  (Biomed Instrum Technol 2011) and the Dartmouth surveillance programme (Taenzer et al.,
  Anesthesiology 2010) ran SpO2 alarms with a 15 s delay, Görges et al. (Anesth Analg 2009) found
  a 14-19 s delay removes about half of ICU alarms without missing a real event, and IEC
  60601-1-8 asks that such delays be configurable and disclosed. Heart and respiration rate 10 s
  and 15 s (continuous, derived from ECG and impedance, more robust than the pleth). Systolic
  pressure and temperature 0 s: each is a deliberate measurement (a cuff cycle, a thermometer)
  that stands until the next one minutes later, as monitors alarm on the NIBP result itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from realtime.alarms.models import AlarmPriority

HR, SPO2, RR, SBP, TEMP = "8867-4", "59408-5", "9279-1", "8480-6", "8310-5"
# The pulse rate of an oximeter or a cuff (devices.protocol's MDC table keeps it apart from the ECG's heart rate).
PULSE_RATE = "8889-8"
THRESHOLD_METRICS = (HR, SPO2, RR, SBP, TEMP)


class AgeGroup(enum.StrEnum):
    INFANT = "infant"  # under 1 year
    CHILD = "child"  # 1 to 11
    ADOLESCENT = "adolescent"  # 12 to 17
    ADULT = "adult"  # 18 to 64
    OLDER_ADULT = "older_adult"  # 65 and over


@dataclass(frozen=True, slots=True)
class Limits:
    """One metric's alarm limits: alarm when a value is below `low` or above `high`."""

    metric: str
    low: float | None
    high: float | None
    priority: AlarmPriority
    delay_s: int


_H, _M = AlarmPriority.HIGH, AlarmPriority.MEDIUM

_ADULT = (
    Limits(HR, 41, 130, _H, 10),
    Limits(SPO2, 92, None, _H, 20),
    Limits(RR, 9, 24, _H, 15),
    Limits(SBP, 91, 219, _H, 0),
    Limits(TEMP, 35.1, 39.0, _M, 0),
)

DEFAULTS: dict[AgeGroup, tuple[Limits, ...]] = {
    AgeGroup.ADULT: _ADULT,
    AgeGroup.OLDER_ADULT: (
        Limits(HR, 41, 130, _H, 10),
        Limits(SPO2, 92, None, _H, 20),
        Limits(RR, 9, 24, _H, 15),
        Limits(SBP, 100, 219, _H, 0),
        Limits(TEMP, 35.1, 39.0, _M, 0),
    ),
    AgeGroup.ADOLESCENT: (
        Limits(HR, 50, 130, _H, 10),
        Limits(SPO2, 92, None, _H, 20),
        Limits(RR, 10, 25, _H, 15),
        Limits(SBP, 90, 140, _H, 0),
        Limits(TEMP, 35.5, 38.5, _M, 0),
    ),
    AgeGroup.CHILD: (
        Limits(HR, 60, 160, _H, 10),
        Limits(SPO2, 92, None, _H, 20),
        Limits(RR, 15, 40, _H, 15),
        Limits(SBP, 75, 130, _H, 0),
        Limits(TEMP, 35.5, 38.5, _M, 0),
    ),
    AgeGroup.INFANT: (
        Limits(HR, 90, 180, _H, 10),
        Limits(SPO2, 92, None, _H, 20),
        Limits(RR, 20, 60, _H, 15),
        Limits(SBP, 60, 110, _H, 0),
        Limits(TEMP, 36.0, 38.0, _H, 0),
    ),
}


def age_group(birth_date: date | None, at: datetime) -> AgeGroup:
    """The patient's age group on `at`; adults when the birth date is unknown."""
    if birth_date is None:
        return AgeGroup.ADULT
    today = at.date()
    years = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if years < 1:
        return AgeGroup.INFANT
    if years < 12:
        return AgeGroup.CHILD
    if years < 18:
        return AgeGroup.ADOLESCENT
    if years < 65:
        return AgeGroup.ADULT
    return AgeGroup.OLDER_ADULT


def default_limits(group: AgeGroup) -> dict[str, Limits]:
    """The group's limits by metric."""
    return {limits.metric: limits for limits in DEFAULTS[group]}
