"""Recognising a quiet patient without the database: nothing in their new readings could change an alarm.

Most monitored patients are stable, and at one reading a second evaluating each in the database
would cost the ingest process most of a core. After each full evaluation the live evaluator keeps
what it saw: the limits in force, the NEWS2 band, and each metric's "band signature" (which side
of its limits the value is, and the NEWS2 parameter score it gets on every SpO2 scale). New
readings whose signatures are unchanged, within limits, for a patient whose NEWS2 band is low,
change no alarm: the engine would raise nothing, resolve nothing and start no condition delay.

What changes elsewhere is caught by one query per round (`changed_elsewhere`): a patient whose
limits were set, whose NEWS2 observation was charted or whose alarm changed (a nurse, another
worker) since the previous round is forgotten, so their next readings are evaluated in full. A
full evaluation also runs every `full_every_s` (spread with jitter, so that patients first seen
together are not all refreshed in the same round), for what that query cannot see (a limit
override removed, say).

Not every patient that is not quiet is as urgent (`Urgency`): a value beyond its limits may raise
an alarm at once (a value newly beyond a limit), while a NEWS2 parameter moving band raises nothing for tens of seconds (the band's
delay), and a patient not seen yet (after a restart) or due a refresh most likely changes nothing.
The live evaluator ranks its routine rounds by urgency, and evaluates a value newly beyond a limit
without a condition delay at once, in a lane of its own (`raises_at_once` is the cheap check it
makes as readings are handed over). A patient not seen yet
is judged against the adult defaults for this ranking only; their evaluation reads their own.
"""

from __future__ import annotations

import enum
import functools
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from realtime.alarms.defaults import HR, PULSE_RATE, RR, SBP, SPO2, TEMP, AgeGroup, Limits, default_limits
from realtime.alarms.models import Alarm, AlarmStatus, AlarmThreshold, News2Observation, SpO2ScaleAssignment
from realtime.alarms.news2 import (
    ClinicalRisk,
    SpO2Scale,
    score_pulse,
    score_respiration_rate,
    score_spo2,
    score_systolic_bp,
    score_temperature,
)
from realtime.alarms.thresholds import breached

Signature = tuple[object, ...]

# The limits a patient not seen yet is ranked by (see `Urgency`); their evaluation reads their own.
_RANKING_LIMITS = default_limits(AgeGroup.ADULT)


class Urgency(enum.IntEnum):
    """How soon a patient's new values need a full evaluation; lower first."""

    NOW = 0  # a value newly beyond a limit: an alarm may be due at once
    CHANGED = 1  # a NEWS2 parameter in a new band, or NEWS2 above low: a band's delay is tens of seconds
    SOON = 2  # not seen yet, or due a refresh: most likely nothing changes
    QUIET = 3  # nothing in these values can change an alarm


@functools.lru_cache(maxsize=16384)  # four scorings a value, for the few distinct values oximeters send
def _spo2_scores(value: float) -> tuple[int, ...]:
    # The scale and oxygen come from the nurse's chart, which this cache does not read: all variants.
    return tuple(
        score_spo2(value, on_oxygen=oxygen, scale=scale) for scale in SpO2Scale for oxygen in (False, True)
    )


_NEWS2_SCORES: dict[str, Callable[[float], tuple[int, ...]]] = {
    HR: lambda v: (score_pulse(v),),
    RR: lambda v: (score_respiration_rate(v),),
    SBP: lambda v: (score_systolic_bp(v),),
    TEMP: lambda v: (score_temperature(v),),
    SPO2: _spo2_scores,
}


def signature(metric: str, value: float, limits: Mapping[str, Limits]) -> Signature:
    """(side of the limits or None, NEWS2 parameter scores...) of one value."""
    # A pulse rate may be judged and scored as the heart rate (decisions.apply_thresholds, NEWS2):
    # its crossing of the heart rate's limits or bands must not pass for quiet.
    judged = HR if metric == PULSE_RATE else metric
    metric_limits = limits.get(judged)
    side = breached(metric_limits, value) if metric_limits is not None else None
    scores = _NEWS2_SCORES.get(judged)
    return (side, *scores(value)) if scores is not None else (side,)


@dataclass(slots=True)
class Seen:
    """What the last full evaluation of a patient saw."""

    limits: dict[str, Limits]
    news2_risk: ClinicalRisk
    evaluated_at_s: float
    refresh_at_s: float
    signatures: dict[str, Signature] = field(default_factory=dict)


def _side(seen: Seen, metric: str) -> object:
    """The side of its limits the metric's value was on at the last evaluation (None: within)."""
    previous = seen.signatures.get(metric)
    return previous[0] if previous is not None else None


class QuietPatients:
    """The cache of full evaluations, keyed by patient; `urgency` decides how soon to evaluate one again."""

    def __init__(self, *, full_every_s: float) -> None:
        self.full_every_s = full_every_s
        self._seen: dict[uuid.UUID, Seen] = {}

    def urgency(self, patient_id: uuid.UUID, values: Mapping[str, float], *, now_s: float) -> Urgency:
        """How soon these latest values of the patient need a full evaluation."""
        seen = self._seen.get(patient_id)
        if seen is None:
            beyond = any(signature(m, v, _RANKING_LIMITS)[0] is not None for m, v in values.items())
            return Urgency.NOW if beyond else Urgency.SOON
        changed = seen.news2_risk is not ClinicalRisk.LOW
        for metric, value in values.items():
            current = signature(metric, value, seen.limits)
            if current[0] is not None:  # beyond a limit: never quiet, and news if newly so
                if _side(seen, metric) != current[0]:
                    return Urgency.NOW
                changed = True
            changed = changed or seen.signatures.get(metric) != current
        if changed:
            return Urgency.CHANGED
        return Urgency.SOON if now_s >= seen.refresh_at_s else Urgency.QUIET

    def raises_at_once(self, patient_id: uuid.UUID, metric: str, value: float) -> bool:
        """Whether one new value is newly beyond a limit that raises without a condition delay.

        The patient's limits as last seen, the adult defaults if not seen yet. A value still beyond
        the limit it crossed before is no news (its alarm is open already); one beyond a limit with
        a delay starts a pending condition dated by the reading, which the routine rounds raise in
        time, so only the rest cannot wait for them.
        """
        seen = self._seen.get(patient_id)
        limits = _RANKING_LIMITS if seen is None else seen.limits
        metric_limits = limits.get(HR if metric == PULSE_RATE else metric)
        if metric_limits is None or metric_limits.delay_s > 0:
            return False
        side = breached(metric_limits, value)
        return side is not None and (seen is None or _side(seen, metric) != side)

    def evaluated(
        self,
        patient_id: uuid.UUID,
        values: Mapping[str, float],
        *,
        limits: dict[str, Limits],
        news2_risk: ClinicalRisk,
        now_s: float,
    ) -> None:
        """Records a committed full evaluation of these values."""
        previous = self._seen.get(patient_id)
        signatures = dict(previous.signatures) if previous is not None else {}
        signatures.update({metric: signature(metric, value, limits) for metric, value in values.items()})
        # Not cryptography: jitter spreads the refreshes of patients first seen in the same round.
        refresh_at_s = now_s + self.full_every_s * random.uniform(0.75, 1.25)  # noqa: S311
        self._seen[patient_id] = Seen(limits, news2_risk, now_s, refresh_at_s, signatures)

    def forget(self, patient_ids: Iterable[uuid.UUID]) -> None:
        """Their next readings are evaluated in full."""
        for patient_id in patient_ids:
            self._seen.pop(patient_id, None)

    def forget_older_than(self, cutoff_s: float) -> None:
        """Drops patients not evaluated since `cutoff_s` (discharged, monitor unplugged)."""
        for patient_id in [p for p, seen in self._seen.items() if seen.evaluated_at_s < cutoff_s]:
            del self._seen[patient_id]

    def __len__(self) -> int:
        return len(self._seen)


async def changed_elsewhere(session: AsyncSession, *, since: datetime) -> set[uuid.UUID]:
    """Patients whose limits, observation or SpO2 scale changed, or with an alarm changed, since `since`.

    Only open alarms count: a resolved one needs no evaluation of a patient whose values are quiet
    (they would not raise it again). Filtering on the status lets the alarms' status index serve.
    """
    open_alarms = (AlarmStatus.RAISED, AlarmStatus.ACKNOWLEDGED)
    query = union(
        select(AlarmThreshold.patient_id).where(AlarmThreshold.updated_at >= since),
        select(News2Observation.patient_id).where(News2Observation.recorded_at >= since),
        select(SpO2ScaleAssignment.patient_id).where(SpO2ScaleAssignment.set_at >= since),
        select(Alarm.patient_id).where(Alarm.status.in_(open_alarms), Alarm.updated_at >= since),
    )
    return set((await session.execute(query)).scalars())
