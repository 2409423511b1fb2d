"""Prescriptions: clinicians prescribe in an encounter in progress; staff and the patient read them.

An active prescription ends once, as completed, cancelled or stopped; the end is final.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.access import (
    load_encounter,
    practitioner_of,
    require_patient_scope,
    require_role,
)
from clinical.encounters.models import EncounterStatus
from clinical.encounters.prescriptions.allergy_check import AllergyMatch, matching_allergies
from clinical.encounters.prescriptions.models import Prescription, PrescriptionStatus
from clinical.encounters.prescriptions.schemas import (
    Dose,
    Frequency,
    Medication,
    PrescriptionCreate,
    PrescriptionFilter,
    PrescriptionRead,
    PrescriptionStatusChange,
)
from core import audit, outbox
from core.access import load_in_scope
from core.db import utc_now
from core.errors import Conflict, InvalidInput
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import Principal, Role

RESOURCE = "prescription"
_audit = audit.RowAudit(RESOURCE, context=lambda row: {"encounter_id": str(row.encounter_id)})
PRESCRIBERS = (Role.CLINICIAN,)


class AllergyWarning(Conflict):
    code = "allergy-warning"
    title = "Allergy warning"


async def prescribe(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, new: PrescriptionCreate
) -> PrescriptionRead:
    """Writes a prescription in an encounter in progress; the caller's practitioner record signs it."""
    require_role(session, actor, PRESCRIBERS, action="create", resource_type=RESOURCE)
    prescriber = await practitioner_of(session, actor)
    encounter = await load_encounter(session, actor, encounter_id, action="create", resource_type=RESOURCE)
    if encounter.status is not EncounterStatus.IN_PROGRESS:
        raise Conflict(
            f"Prescriptions are written during an encounter in progress; this one is {encounter.status.value}.",
            extra={"encounter_status": encounter.status.value},
        )
    matches = await matching_allergies(
        session, encounter.patient_id, new.medication.name, new.medication.code
    )
    _require_acknowledged(session, actor, encounter.patient_id, new, matches)
    prescribed_at = new.prescribed_at or utc_now()
    if encounter.started_at is not None and prescribed_at < encounter.started_at:
        raise InvalidInput(
            f"prescribed_at ({prescribed_at.isoformat()}) is before the encounter started "
            f"({encounter.started_at.isoformat()})."
        )
    row = Prescription(
        id=uuid.uuid4(),
        prescribed_at=prescribed_at,
        patient_id=encounter.patient_id,
        encounter_id=encounter.id,
        prescriber_id=prescriber.id,
        medication_name=new.medication.name,
        medication_code=new.medication.code,
        dose_quantity=new.dose.quantity,
        dose_unit=new.dose.unit,
        route=new.route,
        frequency_count=new.frequency.count,
        frequency_period=new.frequency.period,
        frequency_period_unit=new.frequency.period_unit,
        as_needed=new.frequency.as_needed,
        duration_days=new.duration_days,
        instructions=new.instructions,
        status=PrescriptionStatus.ACTIVE,
    )
    session.add(row)
    await session.flush()
    # The allergies the prescriber saw and overrode stay on the record with the prescription.
    overridden: dict[str, Any] = (
        {"allergies_overridden": [str(m.allergy.id) for m in matches]} if matches else {}
    )
    _audit(session, actor, "create", row, medication=row.medication_name, **overridden)
    outbox.record(
        session,
        event_type=outbox.EventType.PRESCRIPTION_ISSUED,
        prescription_id=row.id,
        patient_id=row.patient_id,
    )
    return to_read(row)


def _require_acknowledged(
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID,
    new: PrescriptionCreate,
    matches: list[AllergyMatch],
) -> None:
    """AllergyWarning (409, audited as a failed attempt) unless the prescriber acknowledged every match."""
    missing = [m for m in matches if m.allergy.id not in set(new.acknowledged_allergy_ids)]
    if not missing:
        return
    described = "; ".join(
        f"{m.allergy.substance_text} ({m.allergy.criticality.value} criticality"
        f"{': ' + m.allergy.reaction if m.allergy.reaction else ''})"
        + ("" if m.reason == "same substance" else f", as both are {m.reason}")
        for m in missing
    )
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type=RESOURCE,
        patient_id=patient_id,
        detail={"medication": new.medication.name, "allergy_warning": [str(m.allergy.id) for m in missing]},
    )
    raise AllergyWarning(
        f"{new.medication.name} matches the patient's recorded allergy: {described}. To prescribe it "
        "anyway, confirm that you have seen the warning (acknowledged_allergy_ids).",
        extra={
            "allergies": [
                {
                    "id": str(m.allergy.id),
                    "substance": m.allergy.substance_text,
                    "criticality": m.allergy.criticality.value,
                    "reaction": m.allergy.reaction,
                    "reason": m.reason,
                }
                for m in missing
            ]
        },
    )


async def change_status(
    *, session: AsyncSession, actor: Principal, prescription_id: uuid.UUID, change: PrescriptionStatusChange
) -> PrescriptionRead:
    """Completes, cancels or stops an active prescription; clinicians only."""
    require_role(
        session, actor, PRESCRIBERS, action="update", resource_type=RESOURCE, resource_id=prescription_id
    )
    row = await _load(session, actor, prescription_id, action="update", for_update=True)
    if row.status is not PrescriptionStatus.ACTIVE:
        raise Conflict(
            f"This prescription is already {row.status.value}; only an active one can change.",
            extra={"prescription_status": row.status.value},
        )
    row.status = PrescriptionStatus(change.status)
    row.status_reason = change.reason
    row.status_changed_at = utc_now()
    row.status_changed_by = actor.user_id
    await session.flush()
    _audit(session, actor, "update", row, status=change.status, reason=change.reason)
    return to_read(row)


async def get_prescription(
    *, session: AsyncSession, actor: Principal, prescription_id: uuid.UUID
) -> PrescriptionRead:
    """One prescription, if its patient is in the caller's scope."""
    row = await _load(session, actor, prescription_id, action="read")
    _audit(session, actor, "read", row)
    return to_read(row)


async def list_prescriptions(
    *,
    session: AsyncSession,
    actor: Principal,
    filters: PrescriptionFilter,
    encounter_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[PrescriptionRead]:
    """Prescriptions newest first, of one encounter or one patient; a patient gets only their own."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Prescription)
    patient_id = filters.patient_id or (None if actor.is_staff else actor.patient_id)
    if encounter_id is not None:
        encounter = await load_encounter(session, actor, encounter_id, action="list", resource_type=RESOURCE)
        query = query.where(Prescription.encounter_id == encounter.id)
        patient_id = encounter.patient_id
    if patient_id is None:
        raise InvalidInput("Name the patient_id whose prescriptions to list.")
    require_patient_scope(session, actor, patient_id, action="list", resource_type=RESOURCE)
    query = query.where(Prescription.patient_id == patient_id)
    if filters.status is not None:
        query = query.where(Prescription.status == filters.status)
    query = newest_first(
        query, time_column=Prescription.created_at, id_column=Prescription.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(session, actor, rows, action="list", resource_type=RESOURCE, patient_id=patient_id)
    return Page[PrescriptionRead](
        items=[to_read(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
    )


def to_read(row: Prescription) -> PrescriptionRead:
    """The API's nested shape of a prescription row."""
    return PrescriptionRead(
        id=row.id,
        patient_id=row.patient_id,
        encounter_id=row.encounter_id,
        prescriber_id=row.prescriber_id,
        medication=Medication(name=row.medication_name, code=row.medication_code),
        dose=Dose(quantity=plain_decimal(row.dose_quantity), unit=row.dose_unit),
        route=row.route,
        frequency=Frequency(
            count=row.frequency_count,
            period=row.frequency_period,
            period_unit=row.frequency_period_unit,
            as_needed=row.as_needed,
        ),
        duration_days=row.duration_days,
        instructions=row.instructions,
        status=row.status,
        status_reason=row.status_reason,
        status_changed_at=row.status_changed_at,
        status_changed_by=row.status_changed_by,
        prescribed_at=row.prescribed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def plain_decimal(value: Decimal) -> Decimal:
    """`value` without the column's trailing zeros and without an exponent: 500.0000 becomes 500."""
    trimmed = value.normalize()
    return trimmed.quantize(Decimal(1)) if trimmed.as_tuple().exponent > 0 else trimmed  # type: ignore[operator]


async def _load(
    session: AsyncSession,
    actor: Principal,
    prescription_id: uuid.UUID,
    *,
    action: str,
    for_update: bool = False,
) -> Prescription:
    return await load_in_scope(
        session,
        actor,
        Prescription,
        prescription_id,
        action=action,
        resource_type=RESOURCE,
        missing=f"There is no prescription with id {prescription_id}.",
        for_update=for_update,
    )
