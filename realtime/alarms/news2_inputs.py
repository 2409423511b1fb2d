"""NEWS2 from what is stored: the latest fresh vitals and the nurse's latest observation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.vitals import queries
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP
from realtime.alarms.models import News2Observation
from realtime.alarms.news2 import News2Inputs, News2Score, SpO2Scale, score_news2

# A vital older than this is not "the latest" for a score; the RCP asks for a full set each time.
VITALS_FRESHNESS = timedelta(hours=1)
# Consciousness and oxygen are charted at each observation round; 12 h covers the sparsest schedule.
OBSERVATION_FRESHNESS = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class News2Result:
    score: News2Score
    values: dict[str, Any]
    observation_id: uuid.UUID | None


async def latest_observation(
    session: AsyncSession, *, patient_id: uuid.UUID, now: datetime
) -> News2Observation | None:
    """The nurse's latest observation within the freshness window."""
    return await session.scalar(
        select(News2Observation)
        .where(
            News2Observation.patient_id == patient_id,
            News2Observation.recorded_at <= now,
            News2Observation.recorded_at >= now - OBSERVATION_FRESHNESS,
        )
        .order_by(News2Observation.recorded_at.desc())
        .limit(1)
    )


async def compute_news2(
    session: AsyncSession, *, patient_id: uuid.UUID, now: datetime, freshness: timedelta = VITALS_FRESHNESS
) -> News2Result:
    """Scores the patient's latest vitals (no older than `freshness`) with the latest observation."""
    rows = await queries.latest_values(session, patient_ids=[patient_id], now=now)
    latest = {metric: value for _, metric, value, _, time, _ in rows if time >= now - freshness}
    observation = await latest_observation(session, patient_id=patient_id, now=now)
    inputs = News2Inputs(
        respiration_rate=latest.get(RR),
        spo2=latest.get(SPO2),
        on_oxygen=observation.on_oxygen if observation else None,
        systolic_bp=latest.get(SBP),
        pulse=latest.get(HR),
        consciousness=observation.consciousness if observation else None,
        temperature_c=latest.get(TEMP),
        spo2_scale=SpO2Scale(observation.spo2_scale) if observation else SpO2Scale.SCALE_1,
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
