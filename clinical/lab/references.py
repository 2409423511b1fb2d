"""What the laboratory needs from other domains: patients, practitioners and encounters."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import Encounter
from clinical.organisation import Practitioner
from clinical.patients import Patient
from core.errors import Forbidden, InvalidInput, NotFound
from core.principal import Principal


async def patient(session: AsyncSession, patient_id: uuid.UUID) -> Patient:
    """The patient, or NotFound."""
    found = await session.get(Patient, patient_id)
    if found is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    return found


async def patients_by_mrn(session: AsyncSession, mrns: list[str]) -> list[Patient]:
    """Patients whose medical record number is one of `mrns`."""
    if not mrns:
        return []
    return list(await session.scalars(select(Patient).where(Patient.mrn.in_(mrns))))


async def ordering_practitioner(
    session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID | None
) -> Practitioner:
    """The named active practitioner, or by default the one linked to the caller's account."""
    if practitioner_id is not None:
        found = await session.get(Practitioner, practitioner_id)
        if found is None or not found.active:
            raise InvalidInput(f"There is no active practitioner with id {practitioner_id}.")
        return found
    own = await session.scalar(select(Practitioner).where(Practitioner.user_id == actor.user_id))
    if own is None or not own.active:
        raise Forbidden(
            "Your account is not linked to an active practitioner record; ask an administrator to link it, "
            "or name the ordering practitioner."
        )
    return own


async def encounter_of_patient(
    session: AsyncSession, encounter_id: uuid.UUID, patient_id: uuid.UUID
) -> Encounter:
    """The encounter, which must be the patient's own; InvalidInput otherwise."""
    found = await session.get(Encounter, encounter_id)
    if found is None or found.patient_id != patient_id:
        raise InvalidInput(f"Encounter {encounter_id} is not an encounter of patient {patient_id}.")
    return found


def age_in_years(birth_date: date | None, on: date) -> int | None:
    """Completed years of age on a day, or None when the birth date is unknown."""
    if birth_date is None:
        return None
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)
