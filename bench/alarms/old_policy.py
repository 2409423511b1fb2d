"""The rules before the alarm policy (kept only to compare with): what made alarms stick.

A NEWS2 band raised at once from one reading; an alarm resolved the moment one reading was back
in range, and a NEWS2 alarm never while the score was incomplete; nothing looked again without
a new reading. Threshold delays were 15 s for SpO2 and 10 s for the others, cuff and thermometer
included. Driven on the same `PatientWork` as the current rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from realtime.alarms import (
    NEWS2_KEY,
    NEWS2_PRIORITY,
    SPO2,
    AlarmChange,
    AlarmKind,
    ChartedObservation,
    Limits,
    PatientWork,
    ReadingLike,
    breached,
    score_latest,
    threshold_key,
)

OLD_VITALS_FRESHNESS = timedelta(hours=1)


def old_limits(limits: dict[str, Limits]) -> dict[str, Limits]:
    """The old delays: 15 s for SpO2, 10 s for every other metric."""
    return {m: replace(lim, delay_s=15 if m == SPO2 else 10) for m, lim in limits.items()}


class OldPolicyPatient:
    """`realtime.alarms.replay.ReplayedPatient`'s interface, deciding by the old rules."""

    def __init__(self, limits: dict[str, Limits], *, observation: ChartedObservation | None = None) -> None:
        self.patient_id = uuid.uuid4()
        self.limits = old_limits(limits)
        self.observation = observation
        self.conditions: dict[str, datetime] = {}
        self.open_alarms: dict = {}
        self.current: dict[str, tuple[float, datetime]] = {}
        self.suppressed: set[str] = set()  # the old rules knew no suppression

    def step(self, readings: Sequence[ReadingLike], now: datetime) -> list[AlarmChange]:
        if not readings:  # the old evaluator only ran on new readings
            return []
        work = PatientWork(
            patient_id=self.patient_id,
            bed_id=None,
            ward_id=None,
            limits=self.limits,
            stored_conditions=self.conditions,
            open_alarms=self.open_alarms,
        )
        for reading in sorted(readings, key=lambda r: r.time):
            self._threshold(work, reading, now)
            self.current[reading.metric] = (reading.value, reading.time)
        vitals = [(m, v, at) for m, (v, at) in self.current.items()]
        result = score_latest(vitals, self.observation, now=now, freshness=OLD_VITALS_FRESHNESS)
        priority = NEWS2_PRIORITY.get(result.score.risk)
        if priority is None:
            if result.score.complete:
                work.resolve([NEWS2_KEY], now)
        else:
            work.raise_alarm(
                condition_key=NEWS2_KEY,
                kind=AlarmKind.NEWS2,
                code=NEWS2_KEY,
                priority=priority,
                now=now,
                score=result.score.total,
                detail={},
            )
        self.conditions = work.conditions
        return work.changes

    def acknowledge(self, keys, now: datetime) -> None:  # acknowledging changed nothing then
        return None

    def _threshold(self, work: PatientWork, reading: ReadingLike, now: datetime) -> None:
        limits = work.limits.get(reading.metric)
        if limits is None:
            return
        side = breached(limits, reading.value)
        cleared = [threshold_key(reading.metric, s) for s in ("low", "high") if s != side]
        for key in cleared:
            work.conditions.pop(key, None)
        work.resolve(cleared, now)
        if side is None:
            return
        key = threshold_key(reading.metric, side)
        first_seen = min(work.conditions.setdefault(key, reading.time), reading.time)
        if (reading.time - first_seen).total_seconds() < limits.delay_s:
            return
        work.raise_alarm(
            condition_key=key,
            kind=AlarmKind.THRESHOLD,
            code=reading.metric,
            priority=limits.priority,
            now=now,
            value=reading.value,
            detail={},
        )
