"""Recording vitals by hand: nurses and clinicians enter them; staff and the patient read them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.access import (
    load_encounter,
    load_patient,
    require_patient_scope,
    require_role,
)
from clinical.encounters.models import EncounterStatus
from clinical.encounters.recorded_vitals.models import RecordedVital
from clinical.encounters.recorded_vitals.schemas import (
    RecordedVitalFilter,
    RecordedVitalRead,
    RecordedVitalsCreate,
)
from core import audit
from core.db import utc_now
from core.errors import Conflict, InvalidInput
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import Principal, Role
from devices.protocol import metric_spec

RESOURCE = "recorded_vital"
RECORDERS = (Role.NURSE, Role.CLINICIAN)
# Observations belong to an encounter that has started; a finished one may still receive late entries.
RECORDABLE = (EncounterStatus.IN_PROGRESS, EncounterStatus.FINISHED)


async def record_vitals(
    *, session: AsyncSession, actor: Principal, new: RecordedVitalsCreate
) -> list[RecordedVital]:
    """Stores a set of observations, all or none; values were checked against the metric's range.

    Nurses and clinicians record them; a patient may report their own (at home: outside encounters),
    and those are marked as reported by the patient.
    """
    reported_by_patient = actor.role is Role.PATIENT
    if reported_by_patient:
        _check_own_report(session, actor, new)
    else:
        require_role(
            session, actor, RECORDERS, action="create", resource_type=RESOURCE, patient_id=new.patient_id
        )
    patient_id = new.patient_id or (actor.patient_id if reported_by_patient else None)
    if new.encounter_id is not None:
        encounter = await load_encounter(
            session, actor, new.encounter_id, action="create", resource_type=RESOURCE
        )
        if patient_id is not None and patient_id != encounter.patient_id:
            raise InvalidInput("patient_id does not match the encounter's patient; leave it out.")
        if encounter.status not in RECORDABLE:
            raise Conflict(
                f"Vitals are recorded in encounters in progress or finished; this one is {encounter.status.value}.",
                extra={"encounter_status": encounter.status.value},
            )
        patient_id = encounter.patient_id
    assert patient_id is not None  # the schema requires a patient or an encounter
    await load_patient(session, actor, patient_id, action="create", resource_type=RESOURCE)
    now = utc_now()
    rows = [
        RecordedVital(
            id=uuid.uuid4(),
            patient_id=patient_id,
            encounter_id=new.encounter_id,
            metric_code=reading.metric,
            value=reading.value,
            unit=reading.unit,
            measured_at=reading.measured_at or new.measured_at or now,
            recorded_by=actor.user_id,
            reported_by_patient=reported_by_patient,
            created_at=now,
        )
        for reading in new.readings
    ]
    session.add_all(rows)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type=RESOURCE,
        patient_id=patient_id,
        detail={
            "encounter_id": str(new.encounter_id) if new.encounter_id else None,
            "ids": [str(row.id) for row in rows],
            "metrics": [row.metric_code for row in rows],
        },
    )
    return rows


def _check_own_report(session: AsyncSession, actor: Principal, new: RecordedVitalsCreate) -> None:
    if new.encounter_id is not None or actor.patient_id is None:
        require_role(
            session, actor, RECORDERS, action="create", resource_type=RESOURCE, patient_id=new.patient_id
        )
    if new.patient_id not in (None, actor.patient_id):
        require_patient_scope(session, actor, new.patient_id, action="create", resource_type=RESOURCE)


async def list_recorded_vitals(
    *,
    session: AsyncSession,
    actor: Principal,
    filters: RecordedVitalFilter,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[RecordedVitalRead]:
    """Observations newest first, of one patient or one encounter; a patient gets only their own."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(RecordedVital)
    patient_id = filters.patient_id or (None if actor.is_staff else actor.patient_id)
    if filters.encounter_id is not None:
        encounter = await load_encounter(
            session, actor, filters.encounter_id, action="list", resource_type=RESOURCE
        )
        query = query.where(RecordedVital.encounter_id == encounter.id)
        patient_id = encounter.patient_id
    if patient_id is None:
        raise InvalidInput("Name the patient_id or encounter_id whose vitals to list.")
    require_patient_scope(session, actor, patient_id, action="list", resource_type=RESOURCE)
    query = query.where(RecordedVital.patient_id == patient_id)
    if filters.metric is not None:
        try:
            query = query.where(RecordedVital.metric_code == metric_spec(filters.metric).code)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    if filters.since is not None:
        query = query.where(RecordedVital.measured_at >= filters.since)
    if filters.until is not None:
        query = query.where(RecordedVital.measured_at < filters.until)
    query = newest_first(
        query, time_column=RecordedVital.measured_at, id_column=RecordedVital.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(session, actor, rows, action="list", resource_type=RESOURCE, patient_id=patient_id)
    return Page[RecordedVitalRead](
        items=[RecordedVitalRead.model_validate(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].measured_at, rows[-1].id) if more else None,
    )
