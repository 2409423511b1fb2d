"""Shared handling of a patient's sub-records (allergies, conditions, medications, identifiers).

Each kind is described once (`RecordKind`); adding, listing, changing and removing work the same
way for all: scoped by the caller, audited with the patient's id, removal by status where the
record is clinical (entered-in-error stays visible to staff for the history).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients.access import ensure_patient_access, load_patient
from clinical.patients.exceptions import RecordNotFound
from clinical.patients.models import Allergy, Condition, Medication, PatientIdentifier
from core import audit
from core.db import utc_now
from core.errors import Forbidden
from core.principal import Principal, Role

Record = TypeVar("Record", Allergy, Condition, Medication, PatientIdentifier)
ENTERED_IN_ERROR = "entered-in-error"


@dataclass(frozen=True, slots=True)
class RecordKind:
    model: type[Any]
    resource_type: str
    writers: frozenset[Role]
    # The status column set to entered-in-error on removal; None means the row is deleted.
    status_field: str | None
    # NOT NULL columns: an explicit null in an update means "leave as is".
    required: frozenset[str] = frozenset()


def require_writer(kind: RecordKind, principal: Principal) -> None:
    """Forbidden unless the caller's role may write this kind of record."""
    if principal.role not in kind.writers:
        roles = ", ".join(sorted(role.value for role in kind.writers))
        raise Forbidden(f"Recording {kind.resource_type} entries needs one of the roles: {roles}.")


async def add_record(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: RecordKind,
    patient_id: uuid.UUID,
    fields: dict[str, Any],
) -> Any:
    """Adds a record to the patient's chart and audits it."""
    require_writer(kind, principal)
    await load_patient(session=session, principal=principal, patient_id=patient_id)
    record = kind.model(patient_id=patient_id, **fields)
    if hasattr(record, "recorded_by"):
        record.recorded_by = principal.user_id if principal.user_id.int else None
    session.add(record)
    await session.flush()
    audit.RowAudit(kind.resource_type)(session, principal, "create", record)
    return record


async def list_records(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: RecordKind,
    patient_id: uuid.UUID,
    include_removed: bool = False,
) -> list[Any]:
    """The patient's records of this kind, oldest first; removed ones only for staff who ask."""
    await load_patient(session=session, principal=principal, patient_id=patient_id)
    statement = select(kind.model).where(kind.model.patient_id == patient_id)
    if kind.status_field and not (include_removed and principal.is_staff):
        statement = statement.where(getattr(kind.model, kind.status_field) != ENTERED_IN_ERROR)
    records = list((await session.scalars(statement.order_by(kind.model.created_at, kind.model.id))).all())
    audit.record(
        session,
        actor=principal,
        action="read",
        resource_type=kind.resource_type,
        patient_id=patient_id,
        detail={"count": len(records)},
    )
    return records


async def load_record(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: RecordKind,
    patient_id: uuid.UUID,
    record_id: uuid.UUID,
) -> Any:
    """One record of the patient's (not audited: callers audit what they do with it)."""
    ensure_patient_access(session=session, principal=principal, patient_id=patient_id)
    record = await session.get(kind.model, record_id)
    if record is None or record.patient_id != patient_id:
        raise RecordNotFound(f"Patient {patient_id} has no {kind.resource_type} {record_id}.")
    return record


def apply_changes(kind: RecordKind, record: Any, fields: dict[str, Any]) -> list[str]:
    """Sets the given fields on `record`; returns the names changed."""
    changed = []
    for name, value in fields.items():
        if value is None and name in kind.required:
            continue
        setattr(record, name, value)
        changed.append(name)
    record.updated_at = utc_now()
    return sorted(changed)


async def finish_update(
    session: AsyncSession, principal: Principal, kind: RecordKind, record: Any, changed: Iterable[str]
) -> Any:
    """Flushes an updated record and audits which fields changed."""
    await session.flush()
    audit.RowAudit(kind.resource_type)(session, principal, "update", record, fields=list(changed))
    return record


async def remove_record(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: RecordKind,
    patient_id: uuid.UUID,
    record_id: uuid.UUID,
) -> None:
    """Marks a clinical record entered-in-error (kept for history) or deletes an administrative one."""
    require_writer(kind, principal)
    record = await load_record(
        session=session, principal=principal, kind=kind, patient_id=patient_id, record_id=record_id
    )
    if kind.status_field:
        setattr(record, kind.status_field, ENTERED_IN_ERROR)
        record.updated_at = utc_now()
    else:
        await session.delete(record)
    await session.flush()
    audit.RowAudit(kind.resource_type)(session, principal, "delete", record)
