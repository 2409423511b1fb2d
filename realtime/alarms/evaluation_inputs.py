"""What an evaluation reads besides alarm state and vitals, for every patient of a round, in one statement.

Birth dates and clinicians' limits, beds, pending conditions, sensor-off devices, the nurse's latest
observation, the SpO2 scale in force and charted values were eight queries, each a round trip that
the alarms worker's thread waits for, then waits again for the interpreter lock, on a machine
whose cores are busy with readings. Here they are one `UNION ALL`, each row tagged with what it
is; the open alarms (read locked, as ORM objects) and the latest vitals stay queries of their own.
Read in the round's own transaction, as before: nothing here is cached, so a limit a clinician has
just set is the limit the next evaluation uses.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Date,
    Float,
    Integer,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import RecordedVital
from clinical.organisation import Admission, Bed
from clinical.patients import Patient
from core.db import UTCDateTime
from realtime.alarms.defaults import Limits
from realtime.alarms.models import (
    Alarm,
    AlarmCondition,
    AlarmKind,
    AlarmPriority,
    AlarmStatus,
    AlarmThreshold,
    News2Observation,
    SpO2ScaleAssignment,
)
from realtime.alarms.news2 import Consciousness, SpO2Scale
from realtime.alarms.news2_inputs import ChartedObservation, LatestVital
from realtime.alarms.thresholds import LimitsInForce, limits_of

# The columns every branch fills, those it has no use for with a typed NULL.
_COLUMNS: dict[str, Any] = {
    "patient_id": Uuid(),
    "key": String(),
    "low": Float(),
    "high": Float(),
    "number": Integer(),
    "at": UTCDateTime(),
    "day": Date(),
    "flag": Boolean(),
    "ref": Uuid(),
    "ref2": Uuid(),
    "text": String(),
}


@dataclass(slots=True)
class PatientInputs:
    """One patient's inputs other than alarm state and device vitals."""

    limits: LimitsInForce
    place: tuple[uuid.UUID, uuid.UUID] | None = None  # (bed, ward), looked up only when asked
    conditions: dict[str, datetime] = field(default_factory=dict)
    sensors_off: set[str] = field(default_factory=set)
    observation: ChartedObservation | None = None
    spo2_scale: SpO2Scale | None = None
    charted: list[LatestVital] = field(default_factory=list)


def _branch(kind: str, **columns: Any) -> Select[Any]:
    values = [literal(kind, String()).label("kind")]
    for name, type_ in _COLUMNS.items():
        value = columns.get(name)
        values.append((cast(null(), type_) if value is None else type_coerce(value, type_)).label(name))
    return select(*values)


def _ids(name: str, dialect: str) -> Callable[[Any], ColumnElement[bool]]:
    """`column` is one of the ids bound as `name`: on PostgreSQL one array parameter however many
    branches use it (encoding a round's hundreds of ids once per branch cost more than the
    branch's reading), elsewhere an IN list."""
    if dialect == "postgresql":
        shared = bindparam(name, type_=ARRAY(Uuid()))
        return lambda column: column == any_(shared)
    expanding = bindparam(name, expanding=True, type_=Uuid())
    return lambda column: column.in_(expanding)


@functools.cache
def _statement(dialect: str, with_beds: bool) -> CompoundSelect:
    """The statement, built once per dialect: constructing its branches took longer than
    running it. Parameters: `patient_ids`, `unplaced` (with beds), `now` and `since`."""
    among_ids = _ids("patient_ids", dialect)
    now, since = bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime())
    o, a, v = News2Observation, SpO2ScaleAssignment, RecordedVital
    observations = (
        select(
            o.patient_id, o.id, o.consciousness, o.on_oxygen, o.spo2_scale,
            func.row_number().over(partition_by=o.patient_id, order_by=o.recorded_at.desc()).label("rank"),
        )
        .where(among_ids(o.patient_id), o.recorded_at <= now, o.recorded_at >= since)
        .subquery()
    )  # fmt: skip
    scales = (
        select(
            a.patient_id,
            a.scale,
            func.row_number().over(partition_by=a.patient_id, order_by=a.set_at.desc()).label("rank"),
        )
        .where(among_ids(a.patient_id))
        .subquery()
    )
    t, c = AlarmThreshold, AlarmCondition
    branches = [
        _branch("patient", patient_id=Patient.id, day=Patient.birth_date).where(among_ids(Patient.id)),
        _branch(
            "limit", patient_id=t.patient_id, key=t.metric, low=t.low, high=t.high, number=t.delay_s,
            text=t.priority,
        ).where(among_ids(t.patient_id)),
        _branch("condition", patient_id=c.patient_id, key=c.condition_key, at=c.first_seen_at).where(
            among_ids(c.patient_id)
        ),
        _branch("sensor_off", patient_id=Alarm.patient_id, key=Alarm.device_id).where(
            among_ids(Alarm.patient_id),
            Alarm.status != AlarmStatus.RESOLVED,
            Alarm.kind == AlarmKind.TECHNICAL,
            Alarm.code == "sensor_off",
        ),
        _branch(
            "observation", patient_id=observations.c.patient_id, ref=observations.c.id,
            text=observations.c.consciousness, flag=observations.c.on_oxygen, number=observations.c.spo2_scale,
        ).where(observations.c.rank == 1),
        _branch("scale", patient_id=scales.c.patient_id, number=scales.c.scale).where(scales.c.rank == 1),
        _branch("charted", patient_id=v.patient_id, key=v.metric_code, low=v.value, at=v.measured_at).where(
            among_ids(v.patient_id),
            v.measured_at >= since,
            v.measured_at <= now,
            v.reported_by_patient.is_(False),
        ),
    ]  # fmt: skip
    if with_beds:
        branches.append(
            _branch("bed", patient_id=Admission.patient_id, ref=Bed.id, ref2=Bed.ward_id)
            .select_from(Bed)
            .join(Admission, Admission.bed_id == Bed.id)
            .where(_ids("unplaced", dialect)(Admission.patient_id), Admission.start_at <= now)
            .where((Admission.end_at.is_(None)) | (Admission.end_at > now))
        )
    return union_all(*branches)


async def read_inputs(
    session: AsyncSession,
    *,
    patient_ids: Collection[uuid.UUID],
    unplaced: Collection[uuid.UUID] = (),
    now: datetime,
    validity: timedelta,
) -> dict[uuid.UUID, PatientInputs]:
    """Each known patient's inputs, in one statement; `unplaced` patients get their bed looked up.

    Unknown patients are left out. Values charted within `validity` count, and the observation
    charted within it, as `news2_inputs.compute_news2` reads them for one patient.
    """
    if not patient_ids:
        return {}
    statement = _statement(session.get_bind().dialect.name, bool(unplaced))
    parameters = {"patient_ids": list(patient_ids), "now": now, "since": now - validity}
    if unplaced:
        parameters["unplaced"] = list(unplaced)
    rows = (await session.execute(statement, parameters)).all()
    births: dict[uuid.UUID, date | None] = {}
    rest: list[Any] = []
    for row in rows:
        if row.kind == "patient":
            births[row.patient_id] = row.day
        else:
            rest.append(row)
    overrides: dict[uuid.UUID, list[Limits]] = {}
    for row in rest:
        if row.kind == "limit":
            limits = Limits(row.key, row.low, row.high, AlarmPriority(row.text), row.number)
            overrides.setdefault(row.patient_id, []).append(limits)
    found = {
        patient_id: PatientInputs(limits_of(birth, overrides.get(patient_id, ()), now=now))
        for patient_id, birth in births.items()
    }
    charted: dict[uuid.UUID, dict[str, tuple[float, datetime]]] = {}
    for row in rest:
        inputs = found.get(row.patient_id)
        if inputs is None:  # one snapshot: every row has its patient's; a guard, not a case
            continue
        if row.kind == "condition":
            inputs.conditions[row.key] = row.at
        elif row.kind == "sensor_off":
            if row.key:
                inputs.sensors_off.add(row.key)
        elif row.kind == "observation":
            inputs.observation = ChartedObservation(
                row.ref, Consciousness(row.text), bool(row.flag), int(row.number)
            )
        elif row.kind == "scale":
            inputs.spo2_scale = SpO2Scale(row.number)
        elif row.kind == "charted":
            # The newest of each metric counts (the rows come in no order).
            newest = charted.setdefault(row.patient_id, {})
            seen = newest.get(row.key)
            if seen is None or seen[1] <= row.at:
                newest[row.key] = (row.low, row.at)
        elif row.kind == "bed" and inputs.place is None:
            inputs.place = (row.ref, row.ref2)
    for patient_id, values in charted.items():
        found[patient_id].charted = [(metric, value, at) for metric, (value, at) in values.items()]
    return found
