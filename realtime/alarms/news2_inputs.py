"""NEWS2 from what is stored: the latest fresh vitals and the nurse's latest observation."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devices import vitals as vitals_store
from realtime.alarms.charted_vitals import latest_charted
from realtime.alarms.defaults import HR, PULSE_RATE, RR, SBP, SPO2, TEMP
from realtime.alarms.models import News2Observation
from realtime.alarms.news2 import Consciousness, News2Inputs, News2Score, SpO2Scale, score_news2
from realtime.alarms.spo2_scale import assigned_scales

# The validity windows of a score's parameters (the defaults of `realtime.alarms.policy`, which the
# settings change): a device value older than this is no longer the patient's current value;
# consciousness and oxygen are charted at each observation round, 12 h covers the sparsest schedule.
VITALS_FRESHNESS = timedelta(minutes=15)
OBSERVATION_FRESHNESS = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class News2Result:
    score: News2Score
    values: dict[str, Any]
    observation_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class ChartedObservation:
    """What NEWS2 takes from a nurse's observation."""

    id: uuid.UUID
    consciousness: Consciousness
    on_oxygen: bool
    spo2_scale: int


# (metric, value, time) of a patient's latest readings, as `queries.latest_values` finds them.
LatestVital = tuple[str, float, datetime]


async def latest_observation(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    now: datetime,
    validity: timedelta = OBSERVATION_FRESHNESS,
) -> News2Observation | None:
    """The nurse's latest observation within the freshness window."""
    return await session.scalar(
        select(News2Observation)
        .where(
            News2Observation.patient_id == patient_id,
            News2Observation.recorded_at <= now,
            News2Observation.recorded_at >= now - validity,
        )
        .order_by(News2Observation.recorded_at.desc())
        .limit(1)
    )


async def latest_vitals(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, list[LatestVital]]:
    """Each patient's latest value per metric measured by a device. Any age: `score_latest` judges it."""
    newest: dict[uuid.UUID, list[LatestVital]] = {}
    for patient_id, metric, value, _unit, time, _device in await vitals_store.latest_values(
        session, patient_ids=patient_ids, now=now
    ):
        newest.setdefault(patient_id, []).append((metric, value, time))
    return newest


async def charted_vitals(
    session: AsyncSession,
    *,
    patient_ids: Collection[uuid.UUID],
    now: datetime,
    validity: timedelta = OBSERVATION_FRESHNESS,
) -> dict[uuid.UUID, list[LatestVital]]:
    """Each patient's newest value per metric that staff charted within `validity` (a full set)."""
    charted = await latest_charted(session, patient_ids=patient_ids, since=now - validity, now=now)
    return {
        patient_id: [(metric, value, time) for metric, (value, time) in values.items()]
        for patient_id, values in charted.items()
    }


async def compute_news2(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    now: datetime,
    freshness: timedelta = VITALS_FRESHNESS,
    observation_validity: timedelta = OBSERVATION_FRESHNESS,
) -> News2Result:
    """Scores the patient's latest vitals (no older than `freshness`) with the latest observation."""
    vitals = await latest_vitals(session, patient_ids=[patient_id], now=now)
    charted_values = await charted_vitals(
        session, patient_ids=[patient_id], now=now, validity=observation_validity
    )
    observation = await latest_observation(
        session, patient_id=patient_id, now=now, validity=observation_validity
    )
    charted = (
        ChartedObservation(
            observation.id, observation.consciousness, observation.on_oxygen, observation.spo2_scale
        )
        if observation
        else None
    )
    scale = (await assigned_scales(session, patient_ids=[patient_id])).get(patient_id)
    return score_latest(
        vitals.get(patient_id, []),
        charted,
        now=now,
        freshness=freshness,
        spo2_scale=scale,
        charted_vitals=charted_values.get(patient_id, ()),
    )


def score_latest(
    vitals: Iterable[LatestVital],
    observation: ChartedObservation | None,
    *,
    now: datetime,
    freshness: timedelta = VITALS_FRESHNESS,
    spo2_scale: SpO2Scale | None = None,
    charted_vitals: Iterable[LatestVital] = (),
) -> News2Result:
    """NEWS2 of the latest vitals no older than `freshness`, with the observation (if any).

    `spo2_scale` is the scale a clinician assigned (`realtime.alarms.spo2_scale`), scale 1 without
    one; the scale an observation was charted on is a record of that moment, not a choice.
    """
    spo2_scale = spo2_scale or SpO2Scale.SCALE_1
    newest = {metric: (value, time) for metric, value, time in vitals if time >= now - freshness}
    # A value staff charted counts until the next round (the caller passes only those still valid);
    # a newer device value takes its place.
    for metric, value, time in charted_vitals:
        if metric not in newest or newest[metric][1] < time:
            newest[metric] = (value, time)
    latest = {metric: value for metric, (value, _time) in newest.items()}
    inputs = News2Inputs(
        respiration_rate=latest.get(RR),
        spo2=latest.get(SPO2),
        on_oxygen=observation.on_oxygen if observation else None,
        systolic_bp=latest.get(SBP),
        # The ECG's heart rate when there is one, else the pulse rate of an oximeter or a cuff.
        pulse=latest[HR] if HR in latest else latest.get(PULSE_RATE),
        consciousness=observation.consciousness if observation else None,
        temperature_c=latest.get(TEMP),
        spo2_scale=spo2_scale,
    )
    values: dict[str, Any] = {
        "respiration_rate": inputs.respiration_rate,
        "spo2": inputs.spo2,
        "on_oxygen": inputs.on_oxygen,
        "systolic_bp": inputs.systolic_bp,
        "pulse": inputs.pulse,
        "consciousness": inputs.consciousness.value if inputs.consciousness else None,
        "temperature": inputs.temperature_c,
        "spo2_scale": int(inputs.spo2_scale),
    }
    return News2Result(score_news2(inputs), values, observation.id if observation else None)
