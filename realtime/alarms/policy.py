"""The alarm policy: how long a condition must hold to raise, how long it must be gone to end, which
priorities latch, how long a value counts as current, and NEWS2's validity windows.

One frozen object, built from the settings (`policy_from_settings`), handed to the pure decision
functions (`realtime.alarms.decisions`), so that the live evaluator, the periodic tick and
`bench.alarms` decide with exactly the same rules. The reasoning and the sources of the defaults
are in the README's clinical section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from core.settings import Settings
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP
from realtime.alarms.models import AlarmKind, AlarmPriority

# How long a reading counts as the metric's current value when no newer one arrives. Continuous
# (waveform-derived) values come every second or two: 15 s of silence means we no longer know.
# A cuff pressure or a temperature is a measurement that stands until the next one (NIBP cycles
# every 5 to 60 minutes on a ward; temperature is taken with each observation round).
DEFAULT_VALUE_HOLD_S: dict[str, float] = {HR: 15, SPO2: 15, RR: 15, SBP: 3600, TEMP: 4 * 3600}

# Values no patient can have: a monitor's artefact (a loose lead counting noise as beats), never
# a condition. They neither start nor end a threshold condition. Wide on purpose: a real extreme
# (SpO2 55 %, heart rate 220) must still alarm.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    HR: (15, 300),
    SPO2: (40, 100),
    RR: (2, 80),
    SBP: (40, 300),
    TEMP: (30, 44),
}


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """The rules every evaluation follows (defaults are the settings' defaults)."""

    # NEWS2 band held this long before it raises, by the priority it would raise at.
    news2_delay_s: dict[AlarmPriority, float] = field(
        default_factory=lambda: {AlarmPriority.HIGH: 30.0, AlarmPriority.MEDIUM: 60.0}
    )
    # A pending condition survives readings back in range for this long (noise at the limit).
    gap_s: float = 5.0
    # A NEWS2 band's dips shorter than this pause its hold (the time in the band counts, the dips do
    # not); a longer dip ends the pending band. An aggregate of noisy values wavers at its band's
    # edge for minutes as a patient worsens: measured with bench.alarms (README), a 30 s gap that
    # reset the hold let one respiratory failure go 23 minutes unalarmed.
    news2_gap_s: float = 120.0
    # A condition gone this long ends its alarm (threshold alarms, NEWS2 alarms).
    threshold_hysteresis_s: float = 30.0
    news2_hysteresis_s: float = 120.0
    # An ended alarm of these priorities stays until acknowledged, marked "condition ended".
    latching: frozenset[AlarmPriority] = frozenset({AlarmPriority.HIGH})
    value_hold_s: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_VALUE_HOLD_S))
    # NEWS2 completeness: a device value counts for this long, a charting (consciousness, oxygen) this long.
    vitals_validity_s: float = 900.0
    observation_validity_s: float = 12 * 3600.0

    def hysteresis(self, kind: AlarmKind) -> timedelta:
        seconds = self.news2_hysteresis_s if kind is AlarmKind.NEWS2 else self.threshold_hysteresis_s
        return timedelta(seconds=seconds)

    def hold(self, metric: str) -> timedelta:
        return timedelta(seconds=self.value_hold_s.get(metric, 15.0))

    def news2_delay(self, priority: AlarmPriority) -> timedelta:
        return timedelta(seconds=self.news2_delay_s.get(priority, 60.0))

    @property
    def vitals_validity(self) -> timedelta:
        return timedelta(seconds=self.vitals_validity_s)

    @property
    def observation_validity(self) -> timedelta:
        return timedelta(seconds=self.observation_validity_s)


def plausible(metric: str, value: float) -> bool:
    """False for a value no patient can have (see PLAUSIBLE); metrics without a range pass."""
    bounds = PLAUSIBLE.get(metric)
    return bounds is None or bounds[0] <= value <= bounds[1]


def policy_from_settings(settings: Settings) -> AlarmPolicy:
    """The policy the settings (`OWNAT_ALARM_*`, `OWNAT_NEWS2_*`) describe."""
    return AlarmPolicy(
        news2_delay_s={
            AlarmPriority.HIGH: settings.alarm_news2_delay_high_s,
            AlarmPriority.MEDIUM: settings.alarm_news2_delay_medium_s,
        },
        gap_s=settings.alarm_condition_gap_s,
        news2_gap_s=settings.alarm_news2_gap_s,
        threshold_hysteresis_s=settings.alarm_hysteresis_s,
        news2_hysteresis_s=settings.alarm_news2_hysteresis_s,
        latching=frozenset(AlarmPriority(p) for p in settings.alarm_latching_priorities),
        # The setting is the continuous metrics' hold; measurements (cuff, thermometer) keep theirs.
        value_hold_s=DEFAULT_VALUE_HOLD_S | {m: settings.alarm_value_hold_s for m in (HR, SPO2, RR)},
        vitals_validity_s=settings.news2_vitals_validity_s,
        observation_validity_s=settings.news2_observation_validity_s,
    )
