"""Who is calling: the authenticated principal that services use to scope what they return."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    NURSE = "nurse"
    PATIENT = "patient"
    # Billing clerks manage invoices and payments; not staff: they see no clinical feeds.
    BILLING = "billing"


STAFF_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN, Role.NURSE})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request or job. `patient_id` is set for patients (their own record).

    A caller signed in by an access token also carries the token's id, the session generation of
    its user when it was issued, and its refresh-token family (`core.identity.revocation`).
    """

    user_id: uuid.UUID
    role: Role
    patient_id: uuid.UUID | None = None
    token_id: str | None = None
    generation: int = 0
    family_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def may_access_patient(self, patient_id: uuid.UUID) -> bool:
        """Staff reach every patient of the organisation; a patient reaches only their own record."""
        return self.is_staff or (self.patient_id is not None and self.patient_id == patient_id)


SYSTEM_USER_ID = uuid.UUID(int=0)
SYSTEM = Principal(user_id=SYSTEM_USER_ID, role=Role.ADMIN)
"""The principal of background jobs and commands run by an operator on the host."""
