"""The alarm engine: thresholds with a condition delay, NEWS2, and auto-resolution, from new readings.

Ingest workers call `evaluate()` in their own transaction after storing a batch, then publish the
returned changes once it commits (see `realtime.alarms.publishing`). All state (pending conditions,
open alarms) is in the database, so any worker may evaluate any patient's next batch.

`evaluate_patients` evaluates many patients at once, as the live evaluator's rounds do: it reads
what the rules need for all of them in a handful of queries (`evaluation_reads`), decides in
Python (`decisions`) and writes only what changed (`evaluation_writes`). The single-patient
functions are that with a batch of one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from realtime.alarms import store
from realtime.alarms.decisions import (
    DEFAULT_POLICY,
    NEWS2_KEY,
    ReadingLike,
    decide,
    threshold_key,
)
from realtime.alarms.defaults import Limits
from realtime.alarms.evaluation_reads import Whereabouts, read_patients
from realtime.alarms.evaluation_writes import write_changes
from realtime.alarms.news2 import ClinicalRisk
from realtime.alarms.news2_inputs import News2Result
from realtime.alarms.policy import AlarmPolicy
from realtime.alarms.schemas import AlarmChange
from realtime.alarms.technical import apply_device_status, check_technical

__all__ = [
    "NEWS2_KEY",
    "Evaluation",
    "PatientReadings",
    "ReadingLike",
    "apply_device_status",
    "check_technical",
    "evaluate_patients",
    "threshold_key",
]

# Deciding is plain Python on the caller's event loop: after this many patients the loop gets a
# turn, so that a large round does not hold up ingest commits and the live fan-out.
YIELD_EVERY_PATIENTS = 50


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one evaluation changed, and what it saw: the limits in force, the NEWS2 it scored and
    the patient's ward (as the alarms name it; None when the patient is in no bed)."""

    changes: list[AlarmChange]
    limits: dict[str, Limits]
    news2: News2Result
    ward_id: uuid.UUID | None = None

    @property
    def news2_risk(self) -> ClinicalRisk:
        return self.news2.score.risk


@dataclass(frozen=True, slots=True)
class PatientReadings:
    """A patient's new readings, and where the caller knows them to be (both None: look it up)."""

    patient_id: uuid.UUID
    readings: Sequence[ReadingLike]
    bed_id: uuid.UUID | None = None
    ward_id: uuid.UUID | None = None


async def evaluate_patients(
    session: AsyncSession,
    batch: Sequence[PatientReadings],
    *,
    now: datetime,
    yield_every: int = YIELD_EVERY_PATIENTS,
    policy: AlarmPolicy = DEFAULT_POLICY,
) -> dict[uuid.UUID, Evaluation]:
    """Each patient's evaluation (one entry each), in one pass; unknown patients are left out.

    An entry without readings is still evaluated: time alone raises a condition that has lasted
    its delay and ends an alarm whose condition has been gone for the hysteresis.
    """
    if len({item.patient_id for item in batch}) != len(batch):
        raise ValueError("one entry per patient")
    if not batch:  # a round whose patients were all quiet
        return {}
    whereabouts = [Whereabouts(item.patient_id, item.bed_id, item.ward_id) for item in batch]
    found = await read_patients(
        session, whereabouts, now=now, observation_validity=policy.observation_validity
    )
    scored: dict[uuid.UUID, News2Result] = {}
    for count, item in enumerate(batch, 1):
        state = found.get(item.patient_id)
        if state is not None:
            # The stored latest values; a caller may pass readings it has not stored: `decide` adds them.
            current = {metric: (value, at) for metric, value, at in state.vitals}
            scored[item.patient_id] = decide(
                state.work,
                item.readings,
                current,
                state.observation,
                now=now,
                policy=policy,
                charted=state.charted,
                spo2_scale=state.spo2_scale,
            )
        if count % yield_every == 0:
            await asyncio.sleep(0)
    works = [state.work for state in found.values()]
    await write_changes(session, works, now=now)
    evaluations: dict[uuid.UUID, Evaluation] = {}
    for work in works:
        store.audit_changes(session, work.changes)
        evaluations[work.patient_id] = Evaluation(
            work.changes, work.limits, scored[work.patient_id], work.ward_id
        )
    return evaluations
