"""Loading clinical records through the audited checks of `core.access` (re-exported here)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.models import Encounter
from clinical.organisation import Practitioner
from clinical.patients import Patient
from core.access import load_in_scope, require_patient_scope, require_role
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
    # for_update serialises changes to one encounter (PostgreSQL; SQLite transactions are serial already).
    return await load_in_scope(
        session,
        actor,
        Encounter,
        encounter_id,
        action=action,
        resource_type=resource_type,
        missing=f"There is no encounter with id {encounter_id}.",
        for_update=for_update,
    )


__all__ = [
    "load_encounter",
    "load_patient",
    "practitioner_of",
    "require_patient_scope",
    "require_role",
]
