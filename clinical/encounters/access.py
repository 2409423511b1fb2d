"""Loading clinical records through the audited checks of `core.access` (re-exported here)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.models import Encounter
from clinical.organisation import Practitioner
from clinical.patients import Patient
from core import audit
from core.access import require_patient_scope, require_role
from core.errors import Forbidden, NotFound
from core.principal import Principal


async def load_patient(
    session: AsyncSession, actor: Principal, patient_id: uuid.UUID, *, action: str, resource_type: str
) -> Patient:
    """The patient, if in the caller's scope (checked first, so nothing leaks) and existing."""
    require_patient_scope(session, actor, patient_id, action=action, resource_type=resource_type)
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    return patient


async def practitioner_of(session: AsyncSession, actor: Principal) -> Practitioner:
    """The active practitioner record of the signed-in clinician; Forbidden if there is none."""
    practitioner = await session.scalar(select(Practitioner).where(Practitioner.user_id == actor.user_id))
    if practitioner is None or not practitioner.active:
        raise Forbidden(
            "Your account is not linked to an active practitioner record; ask an administrator to link it."
        )
    return practitioner


async def load_encounter(
    session: AsyncSession,
    actor: Principal,
    encounter_id: uuid.UUID,
    *,
    action: str,
    resource_type: str = "encounter",
    for_update: bool = False,
) -> Encounter:
    """The encounter, if it exists and its patient is in the caller's scope."""
    query = select(Encounter).where(Encounter.id == encounter_id)
    if for_update:
        # Serialises changes to one encounter (PostgreSQL; SQLite transactions are serial already).
        query = query.with_for_update()
    encounter = await session.scalar(query)
    if encounter is None:
        raise NotFound(f"There is no encounter with id {encounter_id}.")
    require_patient_scope(
        session,
        actor,
        encounter.patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=encounter_id,
    )
    return encounter


def audit_reads(
    session: AsyncSession,
    actor: Principal,
    rows: Iterable[Any],
    *,
    action: str,
    resource_type: str,
    detail: dict[str, Any] | None = None,
    patient_id: uuid.UUID | None = None,
) -> None:
    """One audit entry per patient whose rows were returned, so each patient's trail shows the read.

    With `patient_id` (a list limited to one patient) that patient gets an entry even for no rows.
    """
    by_patient: dict[uuid.UUID, list[str]] = defaultdict(list)
    if patient_id is not None:
        by_patient[patient_id] = []
    for row in rows:
        by_patient[row.patient_id].append(str(row.id))
    for patient, ids in by_patient.items():
        audit.record(
            session,
            actor=actor,
            action=action,
            resource_type=resource_type,
            patient_id=patient,
            detail={**(detail or {}), "ids": ids},
        )


__all__ = [
    "audit_reads",
    "load_encounter",
    "load_patient",
    "practitioner_of",
    "require_patient_scope",
    "require_role",
]
