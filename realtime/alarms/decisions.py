"""What an evaluation decides for one patient, in Python, from the state read for the whole round.

`PatientWork` holds a patient's pending conditions and open alarms as the round read them and
changes them as the engine's rules say, reading by reading, recording each alarm change as it
happens; `realtime.alarms.evaluation_writes` then stores the difference. No database here: the
rules are the same whether a round has one patient or two thousand.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from realtime.alarms import store
from realtime.alarms.defaults import Limits
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority, AlarmStatus
from realtime.alarms.news2 import ClinicalRisk
from realtime.alarms.news2_inputs import News2Result
from realtime.alarms.schemas import AlarmChange, ChangeKind
from realtime.alarms.thresholds import breached

NEWS2_KEY = "news2"
# NEWS2 bands to alarm priorities; a single red parameter (low-medium) needs an urgent ward review.
NEWS2_PRIORITY = {
    ClinicalRisk.HIGH: AlarmPriority.HIGH,
    ClinicalRisk.MEDIUM: AlarmPriority.MEDIUM,
    ClinicalRisk.LOW_MEDIUM: AlarmPriority.MEDIUM,
}


class ReadingLike(Protocol):
    """What the engine needs of a reading (devices.protocol.Reading has it)."""

    @property
    def metric(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def time(self) -> datetime: ...


def threshold_key(metric: str, side: str) -> str:
    return f"threshold:{metric}:{side}"


@dataclass(slots=True)
class PatientWork:
    """One patient's alarm state during an evaluation: as read, and as the rules have changed it."""

    patient_id: uuid.UUID
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    limits: dict[str, Limits]
    # Pending conditions (condition key -> first seen) as read; `conditions` is what they become.
    stored_conditions: dict[str, datetime]
    # Open alarms by condition key: read locked, or raised during this evaluation.
    open_alarms: dict[str, Alarm]
    conditions: dict[str, datetime] = field(init=False)
    # Alarms raised during this evaluation, to insert (some may be resolved again by then).
    raised: list[Alarm] = field(default_factory=list)
    changes: list[AlarmChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.conditions = dict(self.stored_conditions)

    def resolve(self, condition_keys: Sequence[str], now: datetime) -> None:
        """Auto-resolves the open alarms of these conditions."""
        for key in condition_keys:
            alarm = self.open_alarms.pop(key, None)
            if alarm is not None:
                alarm.status, alarm.resolved_at, alarm.resolved_by = AlarmStatus.RESOLVED, now, None
                self._record("resolved", alarm)

    def raise_alarm(
        self,
        *,
        condition_key: str,
        kind: AlarmKind,
        code: str,
        priority: AlarmPriority,
        now: datetime,
        value: float | None = None,
        score: int | None = None,
        detail: dict[str, Any],
    ) -> None:
        """Raises the condition's alarm, or raises an open one again if the priority is worse."""
        alarm = self.open_alarms.get(condition_key)
        if alarm is not None:
            if store.raise_again(alarm, priority=priority, now=now, value=value, score=score, detail=detail):
                self._record("updated", alarm)
            return
        values = store.new_alarm_values(
            patient_id=self.patient_id,
            condition_key=condition_key,
            kind=kind,
            code=code,
            priority=priority,
            now=now,
            bed_id=self.bed_id,
            ward_id=self.ward_id,
            value=value,
            score=score,
            detail=detail,
        )
        alarm = self.open_alarms[condition_key] = Alarm(**values)
        self.raised.append(alarm)
        self._record("raised", alarm)

    def replace_changes_of(self, alarm_id: uuid.UUID, replacement: AlarmChange | None) -> None:
        """Puts `replacement` (or nothing) where this alarm's changes were."""
        at = next((n for n, item in enumerate(self.changes) if item.alarm.id == alarm_id), None)
        if at is None:
            return
        kept = [item for item in self.changes if item.alarm.id != alarm_id]
        self.changes = kept[:at] + ([replacement] if replacement else []) + kept[at:]

    def _record(self, kind: ChangeKind, alarm: Alarm) -> None:
        # The alarm as it is now: later changes in the same evaluation must not rewrite this one.
        self.changes.append(store.change(kind, alarm))


def apply_thresholds(work: PatientWork, readings: Sequence[ReadingLike], *, now: datetime) -> None:
    """Starts, continues or clears each metric's condition, raising once it has lasted its delay."""
    # Readings are applied in time order so that a batch replays the condition as it happened.
    for reading in sorted(readings, key=lambda r: r.time):
        metric_limits = work.limits.get(reading.metric)
        if metric_limits is None:
            continue
        side = breached(metric_limits, reading.value)
        cleared = [threshold_key(reading.metric, s) for s in ("low", "high") if s != side]
        for key in cleared:
            work.conditions.pop(key, None)
        work.resolve(cleared, now)
        if side is None:
            continue
        key = threshold_key(reading.metric, side)
        # The condition's start: this reading if new, else the earlier of the stored start and it.
        first_seen = min(work.conditions.setdefault(key, reading.time), reading.time)
        if (reading.time - first_seen).total_seconds() < metric_limits.delay_s:
            continue
        work.raise_alarm(
            condition_key=key,
            kind=AlarmKind.THRESHOLD,
            code=reading.metric,
            priority=metric_limits.priority,
            now=now,
            value=reading.value,
            detail={
                "side": side,
                "low": metric_limits.low,
                "high": metric_limits.high,
                "since": first_seen.isoformat(),
            },
        )


def apply_news2(work: PatientWork, result: News2Result, *, now: datetime) -> ClinicalRisk:
    """Raises, raises again or resolves the NEWS2 alarm from the score's band; returns the band."""
    score = result.score
    priority = NEWS2_PRIORITY.get(score.risk)
    if priority is None:
        # An incomplete low score is only a lower bound: it does not clear an alarm on its own.
        if score.complete:
            work.resolve([NEWS2_KEY], now)
        return score.risk
    work.raise_alarm(
        condition_key=NEWS2_KEY,
        kind=AlarmKind.NEWS2,
        code=NEWS2_KEY,
        priority=priority,
        now=now,
        score=score.total,
        detail={
            "risk": score.risk.value,
            "parameter_scores": score.parameter_scores,
            "missing": list(score.missing),
            "values": result.values,
        },
    )
    return score.risk
