"""What an evaluation reads, for every patient of a round at once: three set-based queries.

The inputs (limits, pending conditions, sensor-off devices, the nurse's latest observation, the
SpO2 scale, charted values, and beds for the patients whose location the caller did not know) in
one statement (`evaluation_inputs`), the open alarms (locked), and the latest vitals with their
devices: the same for a round of one patient as of two thousand.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devices import vitals as vitals_store
from realtime.alarms.decisions import PatientWork
from realtime.alarms.evaluation_inputs import read_inputs
from realtime.alarms.id_lists import among
from realtime.alarms.models import Alarm, AlarmCondition, AlarmKind, AlarmStatus
from realtime.alarms.news2 import SpO2Scale
from realtime.alarms.news2_inputs import OBSERVATION_FRESHNESS, ChartedObservation, LatestVital

# The kinds the engine raises and resolves; technical alarms belong to their device's status.
ENGINE_KINDS = (AlarmKind.THRESHOLD, AlarmKind.NEWS2)


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where the caller believes a patient is; both None means "look it up"."""

    patient_id: uuid.UUID
    bed_id: uuid.UUID | None = None
    ward_id: uuid.UUID | None = None


@dataclass(slots=True)
class PatientRead:
    """One patient's state for the decisions, and what NEWS2 is computed from."""

    work: PatientWork
    vitals: list[LatestVital]
    observation: ChartedObservation | None
    # Device of each metric's latest value, to tell which a sensor-off device measured.
    devices: dict[str, str] = field(default_factory=dict)
    # The scale a clinician assigned, if any (see realtime.alarms.spo2_scale).
    spo2_scale: SpO2Scale | None = None
    # Values staff charted (a full set): they count for the charting's validity, not the devices'.
    charted: list[LatestVital] = field(default_factory=list)


async def read_patients(
    session: AsyncSession,
    patients: Sequence[Whereabouts],
    *,
    now: datetime,
    observation_validity: timedelta = OBSERVATION_FRESHNESS,
) -> dict[uuid.UUID, PatientRead]:
    """The state of each of these patients; patients with no record are left out."""
    ids = [p.patient_id for p in patients]
    unplaced = [p.patient_id for p in patients if p.bed_id is None and p.ward_id is None]
    inputs = await read_inputs(
        session, patient_ids=ids, unplaced=unplaced, now=now, validity=observation_validity
    )
    ids = [patient_id for patient_id in ids if patient_id in inputs]
    alarms = await open_engine_alarms(session, patient_ids=ids)
    vitals: dict[uuid.UUID, list[LatestVital]] = {}
    devices: dict[uuid.UUID, dict[str, str]] = {}
    for patient_id, metric, value, _unit, time, device in await vitals_store.latest_values(
        session, patient_ids=ids, now=now
    ):
        vitals.setdefault(patient_id, []).append((metric, value, time))
        devices.setdefault(patient_id, {})[metric] = device
    found: dict[uuid.UUID, PatientRead] = {}
    for patient in patients:
        patient_id = patient.patient_id
        read = inputs.get(patient_id)
        if read is None:
            continue
        bed_id, ward_id = read.place or (patient.bed_id, patient.ward_id)
        work = PatientWork(
            patient_id=patient_id,
            bed_id=bed_id,
            ward_id=ward_id,
            limits=read.limits.limits,
            stored_conditions=read.conditions,
            open_alarms=alarms.get(patient_id, {}),
        )
        measured_by = devices.get(patient_id, {})
        work.suppressed = {metric for metric, device in measured_by.items() if device in read.sensors_off}
        found[patient_id] = PatientRead(
            work,
            vitals.get(patient_id, []),
            read.observation,
            measured_by,
            read.spo2_scale,
            read.charted,
        )
    return found


async def open_engine_alarms(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Alarm]]:
    """Each patient's open threshold and NEWS2 alarms by condition key, locked for update.

    Locked in the order of their ids, so that two rounds over the same patients wait for each
    other instead of deadlocking.
    """
    if not patient_ids:
        return {}
    alarms = await session.scalars(
        select(Alarm)
        .where(
            among(session, Alarm.patient_id, patient_ids),
            Alarm.status != AlarmStatus.RESOLVED,
            Alarm.kind.in_(ENGINE_KINDS),
        )
        .order_by(Alarm.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found: dict[uuid.UUID, dict[str, Alarm]] = {}
    for alarm in alarms:
        found.setdefault(alarm.patient_id, {})[alarm.condition_key] = alarm
    return found


async def patients_awaiting_time(session: AsyncSession) -> set[uuid.UUID]:
    """Patients for whom time alone may change an alarm: a pending condition, or an open engine alarm."""
    pending = await session.scalars(select(AlarmCondition.patient_id).distinct())
    alarmed = await session.scalars(
        select(Alarm.patient_id)
        .where(Alarm.status != AlarmStatus.RESOLVED, Alarm.kind.in_(ENGINE_KINDS))
        .distinct()
    )
    return set(pending) | set(alarmed)
