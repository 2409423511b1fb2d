"""The alarm engine: thresholds with a condition delay, NEWS2, and auto-resolution, from new readings.

Ingest workers call `evaluate()` in their own transaction after storing a batch, then publish the
returned changes once it commits (see `realtime.alarms.publishing`). All state (pending conditions,
open alarms) is in the database, so any worker may evaluate any patient's next batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from realtime.alarms import store
from realtime.alarms.defaults import Limits
from realtime.alarms.models import AlarmCondition, AlarmKind, AlarmPriority
from realtime.alarms.news2 import ClinicalRisk
from realtime.alarms.news2_inputs import compute_news2
from realtime.alarms.schemas import AlarmChange
from realtime.alarms.technical import apply_device_status, check_technical
from realtime.alarms.thresholds import breached, limits_in_force

__all__ = [
    "Evaluation",
    "ReadingLike",
    "apply_device_status",
    "check_technical",
    "evaluate",
    "evaluate_patient",
]

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


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one evaluation changed, and what it saw: the limits in force and the NEWS2 band."""

    changes: list[AlarmChange]
    limits: dict[str, Limits]
    news2_risk: ClinicalRisk


async def evaluate(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    readings: Sequence[ReadingLike],
    now: datetime,
    bed_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
) -> list[AlarmChange]:
    """Applies thresholds and NEWS2 to a patient's new readings; returns the alarm changes to publish."""
    evaluation = await evaluate_patient(
        session, patient_id=patient_id, readings=readings, now=now, bed_id=bed_id, ward_id=ward_id
    )
    return evaluation.changes


async def evaluate_patient(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    readings: Sequence[ReadingLike],
    now: datetime,
    bed_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
) -> Evaluation:
    """`evaluate`, also returning the limits and NEWS2 band it used (the live evaluator caches them)."""
    if bed_id is None and ward_id is None:
        bed_id, ward_id = await store.location(session, patient_id=patient_id, now=now)
    where = {"bed_id": bed_id, "ward_id": ward_id}
    _, limits, _ = await limits_in_force(session, patient_id=patient_id, now=now)
    changes = await _apply_thresholds(
        session, patient_id=patient_id, readings=readings, limits=limits, now=now, **where
    )
    risk, news2_changes = await _apply_news2(session, patient_id=patient_id, now=now, **where)
    changes += news2_changes
    store.audit_changes(session, changes)
    return Evaluation(changes, limits, risk)


async def _apply_thresholds(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    readings: Sequence[ReadingLike],
    limits: dict[str, Limits],
    now: datetime,
    bed_id: uuid.UUID | None,
    ward_id: uuid.UUID | None,
) -> list[AlarmChange]:
    changes: list[AlarmChange] = []
    # Readings are applied in time order so that a batch replays the condition as it happened.
    for reading in sorted(readings, key=lambda r: r.time):
        metric_limits = limits.get(reading.metric)
        if metric_limits is None:
            continue
        side = breached(metric_limits, reading.value)
        cleared = [threshold_key(reading.metric, s) for s in ("low", "high") if s != side]
        await session.execute(
            delete(AlarmCondition).where(
                AlarmCondition.patient_id == patient_id, AlarmCondition.condition_key.in_(cleared)
            )
        )
        changes += await store.resolve_open(session, patient_id=patient_id, condition_keys=cleared, now=now)
        if side is None:
            continue
        key = threshold_key(reading.metric, side)
        first_seen = await _pending_since(session, patient_id=patient_id, key=key, seen_at=reading.time)
        if (reading.time - first_seen).total_seconds() < metric_limits.delay_s:
            continue
        raised = await store.raise_alarm(
            session,
            patient_id=patient_id,
            condition_key=key,
            kind=AlarmKind.THRESHOLD,
            code=reading.metric,
            priority=metric_limits.priority,
            now=now,
            bed_id=bed_id,
            ward_id=ward_id,
            value=reading.value,
            detail={
                "side": side,
                "low": metric_limits.low,
                "high": metric_limits.high,
                "since": first_seen.isoformat(),
            },
        )
        if raised:
            changes.append(raised)
    return changes


async def _pending_since(
    session: AsyncSession, *, patient_id: uuid.UUID, key: str, seen_at: datetime
) -> datetime:
    """When the condition was first seen: now if new; the first worker's time if several race."""
    table = AlarmCondition.__table__
    assert isinstance(table, Table)
    values = {"patient_id": patient_id, "condition_key": key, "first_seen_at": seen_at}
    await store.insert_ignoring_conflict(session, table, values, keys=["patient_id", "condition_key"])
    first_seen = await session.scalar(
        select(AlarmCondition.first_seen_at).where(
            AlarmCondition.patient_id == patient_id, AlarmCondition.condition_key == key
        )
    )
    return min(first_seen, seen_at) if first_seen else seen_at


async def _apply_news2(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    now: datetime,
    bed_id: uuid.UUID | None,
    ward_id: uuid.UUID | None,
) -> tuple[ClinicalRisk, list[AlarmChange]]:
    result = await compute_news2(session, patient_id=patient_id, now=now)
    score = result.score
    priority = NEWS2_PRIORITY.get(score.risk)
    if priority is None:
        # An incomplete low score is only a lower bound: it does not clear an alarm on its own.
        if score.complete:
            return score.risk, await store.resolve_open(
                session, patient_id=patient_id, condition_keys=[NEWS2_KEY], now=now
            )
        return score.risk, []
    raised = await store.raise_alarm(
        session,
        patient_id=patient_id,
        condition_key=NEWS2_KEY,
        kind=AlarmKind.NEWS2,
        code=NEWS2_KEY,
        priority=priority,
        now=now,
        bed_id=bed_id,
        ward_id=ward_id,
        score=score.total,
        detail={
            "risk": score.risk.value,
            "parameter_scores": score.parameter_scores,
            "missing": list(score.missing),
            "values": result.values,
        },
    )
    return score.risk, [raised] if raised else []
