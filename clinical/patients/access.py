"""Loading a patient in the caller's scope: their own record for a patient, any record for staff."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients.exceptions import PatientNotFound
from clinical.patients.models import Patient
from core.access import require_patient_scope
from core.principal import Principal


def ensure_patient_access(*, session: AsyncSession, principal: Principal, patient_id: uuid.UUID) -> None:
    """Forbidden (and a denied audit entry) unless `principal` may reach `patient_id`'s record."""
    require_patient_scope(
        session, principal, patient_id, action="access", resource_type="patient", resource_id=patient_id
    )


async def load_patient(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, for_update: bool = False
) -> Patient:
    """The patient, if in the caller's scope; Forbidden or PatientNotFound otherwise (not audited)."""
    ensure_patient_access(session=session, principal=principal, patient_id=patient_id)
    patient = await session.get(Patient, patient_id, with_for_update=for_update)
    if patient is None:
        raise PatientNotFound(f"There is no patient with id {patient_id}.")
    return patient
