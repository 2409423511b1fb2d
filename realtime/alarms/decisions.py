"""What an evaluation decides for one patient, in Python, from the state read for the whole round.

`PatientWork` holds a patient's pending conditions and open alarms as the round read them and
changes them as the engine's rules say, reading by reading, recording each alarm change as it
happens; `realtime.alarms.evaluation_writes` then stores the difference. No database here: the
rules are the same whether a round has one patient or two thousand, and `bench.alarms` drives
these very functions with simulated time.

The rules (`realtime.alarms.policy` holds their numbers):
- a condition raises once it has held for its delay, seen by at least two readings, with no gap
  back in range longer than `policy.gap_s` (an isolated spike never raises; a value wavering at
  the limit as the patient worsens still does; a value no patient can have is ignored);
- `apply_time` looks again at pending conditions and ending alarms with no new reading, so a
  condition that persists raises, and one that is gone ends, whether or not readings arrive;
- an alarm ends once its condition has been gone for the hysteresis; an ended alarm of a
  latching priority that nobody acknowledged stays, marked "condition ended" (the detail's
  `condition_ended_at`), until acknowledged; the others are resolved;
- metrics of a device whose sensor is off are not judged (its technical alarm stands for them);
- a pulse rate (oximeter, cuff) is judged by the heart rate's limits, as the heart rate, while the
  patient has no current heart rate: one heart-rate alarm, whichever device counts the beats.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from realtime.alarms import store
from realtime.alarms.defaults import HR, PULSE_RATE, Limits
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority, AlarmStatus
from realtime.alarms.news2 import ClinicalRisk, SpO2Scale
from realtime.alarms.news2_inputs import ChartedObservation, LatestVital, News2Result, score_latest
from realtime.alarms.policy import AlarmPolicy, plausible
from realtime.alarms.schemas import AlarmChange, ChangeKind
from realtime.alarms.thresholds import breached

NEWS2_KEY = "news2"
# Keys of an open alarm's detail: since when its condition has not held, and (latched) when it ended.
CLEAR_SINCE = "condition_clear_since"
ENDED_AT = "condition_ended_at"
# A pending condition's gap (back in range since...) is kept as a pending condition of its own.
GAP_SUFFIX = "~gap"
DEFAULT_POLICY = AlarmPolicy()
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
    # Metrics not judged now: their latest value came from a device whose sensor is off.
    suppressed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.conditions = dict(self.stored_conditions)

    def resolve(self, condition_keys: Sequence[str], now: datetime) -> None:
        """Auto-resolves the open alarms of these conditions."""
        for key in condition_keys:
            alarm = self.open_alarms.pop(key, None)
            if alarm is not None:
                alarm.status, alarm.resolved_at, alarm.resolved_by = AlarmStatus.RESOLVED, now, None
                self._record("resolved", alarm)

    def condition_gone(self, key: str, since: datetime) -> None:
        """The condition does not hold (from `since`): no longer pending; its alarm starts ending."""
        self.conditions.pop(key, None)
        alarm = self.open_alarms.get(key)
        if alarm is not None and CLEAR_SINCE not in alarm.detail:
            alarm.detail = {**alarm.detail, CLEAR_SINCE: since.isoformat()}

    def condition_holds(self, key: str) -> None:
        """The condition holds: its ending alarm goes on; an ended (latched) one is live again."""
        alarm = self.open_alarms.get(key)
        if alarm is None or (CLEAR_SINCE not in alarm.detail and ENDED_AT not in alarm.detail):
            return
        was_ended = ENDED_AT in alarm.detail
        alarm.detail = {k: v for k, v in alarm.detail.items() if k not in (CLEAR_SINCE, ENDED_AT)}
        if was_ended:
            self._record("updated", alarm)

    def end_due(self, policy: AlarmPolicy, now: datetime) -> None:
        """Ends the alarms whose condition has been gone for the hysteresis: latched or resolved."""
        for key, alarm in list(self.open_alarms.items()):
            since = alarm.detail.get(CLEAR_SINCE)
            if since is None or ENDED_AT in alarm.detail:
                continue
            if now - datetime.fromisoformat(since) < policy.hysteresis(alarm.kind):
                continue
            if alarm.status is AlarmStatus.RAISED and alarm.priority in policy.latching:
                # Nobody has seen it yet: it stays until acknowledged, showing the condition ended.
                alarm.detail = {**alarm.detail, ENDED_AT: since}
                self._record("updated", alarm)
            else:
                self.resolve([key], now)

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


def apply_thresholds(
    work: PatientWork,
    readings: Sequence[ReadingLike],
    *,
    now: datetime,
    policy: AlarmPolicy = DEFAULT_POLICY,
    current: Mapping[str, tuple[float, datetime]] | None = None,
) -> None:
    """Starts, continues or ends each metric's condition, raising once it has held for its delay.

    `current` (metric -> latest value and time, before these readings) tells whether the patient
    has a current heart rate; without one, a pulse rate is judged as the heart rate.
    """
    hr_seen = current.get(HR) if current is not None and HR not in work.suppressed else None
    hr_at = hr_seen[1] if hr_seen is not None else None
    # Readings are applied in time order so that a batch replays the condition as it happened; at
    # one instant the heart rate comes first, so that a monitor's pulse rate beside it is not judged.
    for reading in sorted(readings, key=lambda r: (r.time, r.metric == PULSE_RATE)):
        metric = reading.metric
        if metric in work.suppressed:
            continue
        if metric == HR:
            hr_at = reading.time if hr_at is None else max(hr_at, reading.time)
        elif metric == PULSE_RATE:
            # Only the heart rate has limits: without this, a patient on an oximeter alone would
            # have no fast or slow heart-rate alarm. With a current heart rate (the ECG's), the
            # pulse rate is not judged at all, so the same condition never raises two alarms.
            if hr_at is not None and reading.time - hr_at <= policy.hold(HR):
                continue
            metric = HR
        metric_limits = work.limits.get(metric)
        if metric_limits is None or not plausible(metric, reading.value):
            continue
        side = breached(metric_limits, reading.value)
        for other in ("low", "high"):
            if other != side:
                _in_range(work, threshold_key(metric, other), reading.time, policy)
        if side is None:
            continue
        key = threshold_key(metric, side)
        gap_started = work.conditions.pop(gap_key(key), None)
        if gap_started is not None and (reading.time - gap_started).total_seconds() >= policy.gap_s:
            work.condition_gone(key, gap_started)  # back in range too long: this is a new condition
        # The condition's start: this reading if new, else the earlier of the stored start and it.
        first_seen = min(work.conditions.setdefault(key, reading.time), reading.time)
        work.condition_holds(key)
        # With a delay, this needs a second reading: one value alone never lasts the delay.
        if (reading.time - first_seen).total_seconds() < metric_limits.delay_s:
            continue
        _raise_threshold(work, metric_limits, side, reading.value, first_seen, now)


def _in_range(
    work: PatientWork, key: str, at: datetime, policy: AlarmPolicy, gap_s: float | None = None
) -> None:
    """A reading on the good side of the condition `key`'s limit.

    An alarm's condition is then gone (its hysteresis starts). A pending one tolerates a gap of
    `policy.gap_s`: a value wavering across the limit as it worsens still adds up to the delay,
    so that noise at the limit does not hold back a real crossing (sensitivity first).
    """
    if key in work.open_alarms or key not in work.conditions:
        work.condition_gone(key, at)
        return
    gap = gap_key(key)
    started = work.conditions.setdefault(gap, at)
    if (at - started).total_seconds() >= (policy.gap_s if gap_s is None else gap_s):
        work.conditions.pop(gap, None)
        work.condition_gone(key, started)


def gap_key(key: str) -> str:
    """The pending-condition key of `key`'s current gap (its first reading back in range)."""
    return f"{key}{GAP_SUFFIX}"


def apply_time(
    work: PatientWork,
    current: Mapping[str, tuple[float, datetime]],
    *,
    now: datetime,
    policy: AlarmPolicy = DEFAULT_POLICY,
) -> None:
    """What the passing of time decides, new readings or not: pending conditions, ending alarms.

    `current` is each metric's latest value and its time. A pending condition whose latest value
    still breaches, confirmed by a later reading and still current (`policy.hold`), raises once
    its delay has passed; one whose value is gone, stale or back in range no longer holds.
    """
    for key, first_seen in list(work.conditions.items()):
        if not key.startswith("threshold:") or key.endswith(GAP_SUFFIX) or key not in work.conditions:
            continue
        _, metric, side = key.split(":")
        metric_limits = work.limits.get(metric)
        source = judged_source(work, current, metric, now, policy)
        latest = current.get(source)
        if metric_limits is None or latest is None or source in work.suppressed:
            work.conditions.pop(gap_key(key), None)
            work.condition_gone(key, now)
            continue
        value, at = latest
        if now - at > policy.hold(source):
            work.conditions.pop(gap_key(key), None)
            work.condition_gone(key, min(at, now))
            continue
        if breached(metric_limits, value) != side:
            _in_range(work, key, at, policy)
            if key in work.conditions:  # a gap still within its tolerance
                _in_range(work, key, now, policy)
            continue
        held_s = (now - first_seen).total_seconds()
        if key not in work.open_alarms and at > first_seen and held_s >= metric_limits.delay_s:
            _raise_threshold(work, metric_limits, side, value, first_seen, now)
    # Open threshold alarms whose metric has no pending condition (stale, suppressed) end too.
    for key in list(work.open_alarms):
        if key.startswith("threshold:") and key not in work.conditions:
            work.condition_gone(key, now)
    # Gaps whose condition went away (an alarm raised, a metric suppressed) are dropped with it.
    for key in [k for k in work.conditions if k.endswith(GAP_SUFFIX)]:
        if key.removesuffix(GAP_SUFFIX) not in work.conditions:
            del work.conditions[key]
    work.end_due(policy, now)


def judged_source(
    work: PatientWork,
    current: Mapping[str, tuple[float, datetime]],
    metric: str,
    now: datetime,
    policy: AlarmPolicy,
) -> str:
    """The metric whose latest value judges `metric`'s conditions now.

    The pulse rate stands in for a heart rate that is not current (stale, absent, or from a device
    whose sensor is off), as in `apply_thresholds`.
    """
    if metric != HR or PULSE_RATE not in current:
        return metric
    hr = current.get(HR)
    if hr is not None and HR not in work.suppressed and now - hr[1] <= policy.hold(HR):
        return HR
    return PULSE_RATE


def _raise_threshold(
    work: PatientWork, limits: Limits, side: str, value: float, first_seen: datetime, now: datetime
) -> None:
    work.raise_alarm(
        condition_key=threshold_key(limits.metric, side),
        kind=AlarmKind.THRESHOLD,
        code=limits.metric,
        priority=limits.priority,
        now=now,
        value=value,
        detail={
            "side": side,
            "low": limits.low,
            "high": limits.high,
            "since": first_seen.isoformat(),
            "delay_s": limits.delay_s,
        },
    )


def apply_news2(
    work: PatientWork, result: News2Result, *, now: datetime, policy: AlarmPolicy = DEFAULT_POLICY
) -> ClinicalRisk:
    """Raises, raises again or ends the NEWS2 alarm from the score's band; returns the band.

    A partial score (device values only) is the score of what is present: its band is what those
    parameters justify on their own (a single red parameter, a sum of 5 or 7 already reached), so
    it raises that and no more; and it ends the alarm like a complete one when that band is gone.
    The band must hold for the policy's NEWS2 delay first, so that one artefact never raises.
    """
    score = result.score
    priority = NEWS2_PRIORITY.get(score.risk)
    if priority is None:
        # A score wavering across the band's edge as the patient worsens: a gap it survives.
        _in_range(work, NEWS2_KEY, now, policy, gap_s=policy.news2_gap_s)
        return score.risk
    gap_started = work.conditions.pop(gap_key(NEWS2_KEY), None)
    if gap_started is not None:
        if (now - gap_started).total_seconds() >= policy.news2_gap_s:
            work.condition_gone(NEWS2_KEY, gap_started)
        elif NEWS2_KEY in work.conditions and NEWS2_KEY not in work.open_alarms:
            # A dip shorter than the gap pauses the band's clock rather than resetting it: the hold
            # counts the time spent in the band, so a score wavering at its edge as the patient
            # worsens still adds up to the delay, and the time below the band never counts.
            work.conditions[NEWS2_KEY] += now - gap_started
    first_seen = work.conditions.setdefault(NEWS2_KEY, now)
    work.condition_holds(NEWS2_KEY)
    if NEWS2_KEY not in work.open_alarms and now - first_seen < policy.news2_delay(priority):
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
            "complete": score.complete,
            "parameter_scores": score.parameter_scores,
            "missing": list(score.missing),
            "values": result.values,
            "since": first_seen.isoformat(),
        },
    )
    return score.risk


def decide(
    work: PatientWork,
    readings: Sequence[ReadingLike],
    current: dict[str, tuple[float, datetime]],
    observation: ChartedObservation | None,
    *,
    now: datetime,
    policy: AlarmPolicy = DEFAULT_POLICY,
    charted: Sequence[LatestVital] = (),
    spo2_scale: SpO2Scale | None = None,
) -> News2Result:
    """One patient's evaluation: new readings, NEWS2 from the current values, then time; returns
    the NEWS2 it scored (its band is the one that raised or ended the NEWS2 alarm).

    `current` (metric -> latest value and time) is brought up to date with `readings`; values of a
    suppressed metric (a sensor-off device's) count for nothing in the score.
    """
    apply_thresholds(work, readings, now=now, policy=policy, current=current)
    for reading in readings:
        seen = current.get(reading.metric)
        if seen is None or seen[1] <= reading.time:
            current[reading.metric] = (reading.value, reading.time)
    judged = [(m, v, at) for m, (v, at) in current.items() if m not in work.suppressed]
    news2 = score_latest(
        judged,
        observation,
        now=now,
        freshness=policy.vitals_validity,
        spo2_scale=spo2_scale,
        charted_vitals=charted,
    )
    apply_news2(work, news2, now=now, policy=policy)
    apply_time(work, current, now=now, policy=policy)
    return news2
