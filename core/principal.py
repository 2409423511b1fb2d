"""Who is calling: the authenticated principal that services use to scope what they return.

Beside it, the SMART grant a principal may carry (the scopes of an app's token) and the grammar of
the clinical scopes it is made of. They live here, below `core.audit`, `core.access` and
`core.identity`, because all three take a principal; `core.identity.smart` issues the grants.

A clinical scope is `<level>/<type>.<permissions>`: level `patient` (the launch patient's record),
`user` (whatever the signed-in user may see) or `system` (a backend service); type a FHIR resource
type or `*`; permissions a subset of `cruds` in that order (v2), or v1's `read`, `write` or `*`.
Scopes only ever narrow: the user's own role and patient scope still apply beneath them.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field


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


# The SMART grant a principal may carry, and the clinical scopes it is made of.

# v2 permissions in their required order; v1 suffixes mapped onto them.
PERMISSION_ORDER = "cruds"
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_CLINICAL = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)$")


class Level(enum.StrEnum):
    PATIENT = "patient"
    USER = "user"
    SYSTEM = "system"


class Interaction(enum.StrEnum):
    """What a FHIR request does, as the permission letter a scope must grant for it."""

    CREATE = "c"
    READ = "r"  # read, vread, instance history
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"  # search, type history, $everything and includes


class InvalidScope(ValueError):
    """A scope string this server does not understand (RFC 6749's `invalid_scope`)."""


@dataclass(frozen=True, slots=True)
class ClinicalScope:
    """One `<level>/<type>.<permissions>` scope."""

    level: Level
    resource_type: str  # "*" for every type
    permissions: frozenset[str]

    def covers(self, resource_type: str, interaction: Interaction) -> bool:
        return self.resource_type in ("*", resource_type) and interaction.value in self.permissions

    def within(self, other: ClinicalScope) -> bool:
        """Whether everything this scope grants is granted by `other` (used to cap requests)."""
        return (
            self.level == other.level
            and other.resource_type in ("*", self.resource_type)
            and self.permissions <= other.permissions
        )

    def __str__(self) -> str:
        letters = "".join(p for p in PERMISSION_ORDER if p in self.permissions)
        return f"{self.level.value}/{self.resource_type}.{letters}"


def parse_clinical(text: str) -> ClinicalScope | None:
    """The clinical scope `text` names, None if it is not clinical; InvalidScope if malformed."""
    if "?" in text:
        raise InvalidScope(f"'{text}': fine-grained scopes (with search parameters) are not supported.")
    found = _CLINICAL.match(text)
    if found is None:
        if text.split("/", 1)[0] in {level.value for level in Level}:
            raise InvalidScope(f"'{text}' is not a scope of the form <patient|user|system>/<Type>.<cruds>.")
        return None
    level, resource_type, suffix = found.groups()
    letters = V1_PERMISSIONS.get(suffix, suffix)
    if not letters or any(p not in PERMISSION_ORDER for p in letters) or not _in_order(letters):
        raise InvalidScope(f"'{text}': permissions are letters of 'cruds' in that order, or read/write.")
    return ClinicalScope(Level(level), resource_type, frozenset(letters))


def _in_order(letters: str) -> bool:
    positions = [PERMISSION_ORDER.index(p) for p in letters]
    return positions == sorted(set(positions))


def split_scope(scope: str | None) -> list[str]:
    """The scope parameter's space-separated items, without duplicates, in order."""
    return list(dict.fromkeys((scope or "").split()))


@dataclass(frozen=True, slots=True)
class SmartGrant:
    """What a SMART token grants: its scopes, its app and its launch patient (patient/ scopes)."""

    client_id: str
    scopes: tuple[str, ...]
    patient_id: uuid.UUID | None = None
    clinical: tuple[ClinicalScope, ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, *, client_id: str, scope: str, patient_id: uuid.UUID | None = None) -> SmartGrant:
        items = split_scope(scope)
        clinical = tuple(c for c in (parse_clinical(item) for item in items) if c is not None)
        return cls(client_id=client_id, scopes=tuple(items), patient_id=patient_id, clinical=clinical)

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    @property
    def is_system(self) -> bool:
        """A backend service's grant: only system/ scopes."""
        return bool(self.clinical) and all(c.level is Level.SYSTEM for c in self.clinical)

    def allows(self, resource_type: str, interaction: Interaction) -> bool:
        """Whether some scope grants `interaction` on `resource_type` (patient/ ones need a patient)."""
        return any(
            scope.covers(resource_type, interaction)
            and (scope.level is not Level.PATIENT or self.patient_id is not None)
            for scope in self.clinical
        )

    def compartment(self, resource_type: str | None = None) -> uuid.UUID | None:
        """The patient this grant confines `resource_type` to; None when a user/ or system/ scope
        covers the type (the user's own access applies). Without a type: confined if any
        patient/ scope is held, the narrower answer."""
        if self.patient_id is None or not any(c.level is Level.PATIENT for c in self.clinical):
            return None
        if resource_type is not None and any(
            c.level is not Level.PATIENT and c.resource_type in ("*", resource_type) for c in self.clinical
        ):
            return None
        return self.patient_id

    def has(self, scope: str) -> bool:
        return scope in self.scopes
