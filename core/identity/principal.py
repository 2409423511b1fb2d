"""Who is calling: the authenticated principal that services use to scope what they return."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.identity.smart.scopes import SmartGrant


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
    # Set for a SMART app's token: its scopes narrow what the role and patient scope allow.
    grant: SmartGrant | None = None
    generation: int = 0
    family_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_user(self) -> bool:
        """Whether a user stands behind this caller (a backend service's token acts as the app)."""
        return self.grant is None or not self.grant.is_system

    def may_access_patient(self, patient_id: uuid.UUID, *, resource_type: str | None = None) -> bool:
        """Staff reach every patient of the organisation; a patient reaches only their own record;
        a SMART app with patient/ scopes only the patient it was launched with."""
        confined = self.grant.compartment(resource_type) if self.grant is not None else None
        if confined is not None and confined != patient_id:
            return False
        return self.is_staff or (self.patient_id is not None and self.patient_id == patient_id)

    def sees_every_patient(self, resource_type: str | None = None) -> bool:
        """Whether queries of `resource_type` go unfiltered by patient (staff, not confined by a SMART app)."""
        return self.is_staff and (self.grant is None or self.grant.compartment(resource_type) is None)

    def only_patient(self, resource_type: str | None = None) -> uuid.UUID | None:
        """The one patient whose rows a caller that does not see every patient may see (None: none)."""
        confined = self.grant.compartment(resource_type) if self.grant is not None else None
        if confined is not None and (self.is_staff or confined == self.patient_id):
            return confined
        return self.patient_id


SYSTEM_USER_ID = uuid.UUID(int=0)
SYSTEM = Principal(user_id=SYSTEM_USER_ID, role=Role.ADMIN)
"""The principal of background jobs and commands run by an operator on the host."""
