"""The FHIR resource that is the signed-in user (SMART's `fhirUser`): their Patient or Practitioner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Practitioner
from core.principal import Principal


async def fhir_user_reference(session: AsyncSession, principal: Principal) -> str | None:
    """`Patient/<id>` for a patient, `Practitioner/<id>` for staff with a practitioner record, else None."""
    if principal.patient_id is not None:
        return f"Patient/{principal.patient_id}"
    practitioner_id = await session.scalar(
        select(Practitioner.id).where(Practitioner.user_id == principal.user_id)
    )
    return f"Practitioner/{practitioner_id}" if practitioner_id is not None else None
