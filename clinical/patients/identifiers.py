"""External identifiers of a patient (national id, insurer's number, another hospital's MRN).

An identifier is unique per system across all patients; the database's unique constraint decides
between two concurrent assignments, and the loser gets a 409.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import records
from clinical.patients.exceptions import IdentifierTaken
from clinical.patients.models import PatientIdentifier
from clinical.patients.record_schemas import IdentifierCreate, IdentifierUpdate
from core.principal import STAFF_ROLES, Principal

# Administrative, not clinical: deleted outright (the audit log keeps the history).
KIND = records.RecordKind(
    model=PatientIdentifier,
    resource_type="patient-identifier",
    writers=STAFF_ROLES,
    status_field=None,
    required=frozenset({"value"}),
)


def _taken(system: str, value: str) -> IdentifierTaken:
    return IdentifierTaken(
        f"Identifier {value} of system {system} is already assigned to a patient.",
        extra={"system": system, "value": value},
    )


async def _ensure_free(session: AsyncSession, system: str, value: str, own_id: uuid.UUID | None) -> None:
    holder = await session.scalar(
        select(PatientIdentifier.id).where(
            PatientIdentifier.system == system, PatientIdentifier.value == value
        )
    )
    if holder is not None and holder != own_id:
        raise _taken(system, value)


async def _flush_unique(session: AsyncSession, system: str, value: str) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise _taken(system, value) from error


async def add_identifier(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, data: IdentifierCreate
) -> PatientIdentifier:
    """Adds an identifier; 409 if another patient (or this one) already holds it."""
    records.require_writer(KIND, principal)
    await _ensure_free(session, data.system, data.value, None)
    try:
        identifier = await records.add_record(
            session=session, principal=principal, kind=KIND, patient_id=patient_id, fields=data.model_dump()
        )
    except IntegrityError as error:
        # Another transaction assigned the same identifier between our check and our insert.
        raise _taken(data.system, data.value) from error
    return identifier


async def list_identifiers(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID
) -> list[PatientIdentifier]:
    """The patient's external identifiers (the MRN is on the patient itself)."""
    return await records.list_records(session=session, principal=principal, kind=KIND, patient_id=patient_id)


async def update_identifier(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    identifier_id: uuid.UUID,
    changes: IdentifierUpdate,
) -> PatientIdentifier:
    """Corrects an identifier's value or type."""
    records.require_writer(KIND, principal)
    identifier = await records.load_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=identifier_id
    )
    fields = changes.model_dump(exclude_unset=True)
    if fields.get("value"):
        await _ensure_free(session, identifier.system, fields["value"], identifier.id)
    changed = records.apply_changes(KIND, identifier, fields)
    await _flush_unique(session, identifier.system, identifier.value)
    return await records.finish_update(session, principal, KIND, identifier, changed)


async def remove_identifier(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, identifier_id: uuid.UUID
) -> None:
    """Deletes the identifier."""
    await records.remove_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=identifier_id
    )
