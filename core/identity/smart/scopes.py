"""SMART App Launch scopes: parsing v2 (and v1) clinical scopes and deciding what a token may do.

A clinical scope is `<level>/<type>.<permissions>`: level `patient` (the launch patient's record),
`user` (whatever the signed-in user may see) or `system` (a backend service); type a FHIR resource
type or `*`; permissions a subset of `cruds` in that order (v2), or v1's `read`, `write` or `*`.
Scopes only ever narrow: the user's own role and patient scope still apply beneath them.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

# The non-clinical scopes this server understands (SMART App Launch 2.x, section "Scopes").
LAUNCH = "launch"
LAUNCH_PATIENT = "launch/patient"
OPENID = "openid"
FHIR_USER = "fhirUser"
OFFLINE_ACCESS = "offline_access"
ONLINE_ACCESS = "online_access"
CONTEXT_SCOPES = frozenset({LAUNCH, LAUNCH_PATIENT, OPENID, FHIR_USER, OFFLINE_ACCESS, ONLINE_ACCESS})

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


def check_scopes(items: Iterable[str]) -> None:
    """InvalidScope unless every item is a known context scope or a well-formed clinical scope."""
    for item in items:
        if item not in CONTEXT_SCOPES and parse_clinical(item) is None:
            raise InvalidScope(f"'{item}' is not a scope this server supports.")


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


def narrow_request(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The requested scopes the app is registered for (a request beyond them is cut, not refused,
    as RFC 6749 section 3.3 allows; the granted scope is returned to the app)."""
    allowed_items = set(allowed)
    allowed_clinical = [c for c in (parse_clinical(a) for a in allowed_items) if c is not None]
    kept = []
    for item in requested:
        clinical = parse_clinical(item)
        if clinical is None:
            if item in allowed_items:
                kept.append(item)
        elif any(clinical.within(a) for a in allowed_clinical):
            kept.append(str(clinical))
    return list(dict.fromkeys(kept))


def describe(scope: str) -> str:
    """A scope in words, for the consent page."""
    words = {
        LAUNCH: "Open with the patient or context chosen in Ownat",
        LAUNCH_PATIENT: "Know which patient you chose",
        OPENID: "Know who you are",
        FHIR_USER: "Know who you are",
        OFFLINE_ACCESS: "Keep access after you sign out (until you revoke it)",
        ONLINE_ACCESS: "Keep access while you are signed in",
    }
    if scope in words:
        return words[scope]
    clinical = parse_clinical(scope)
    if clinical is None:
        return scope
    verbs = [
        name
        for letter, name in (
            ("r", "read"),
            ("s", "search"),
            ("c", "create"),
            ("u", "change"),
            ("d", "delete"),
        )
        if letter in clinical.permissions
    ]
    what = "all records" if clinical.resource_type == "*" else f"{clinical.resource_type} records"
    whose = {
        Level.PATIENT: "of the chosen patient",
        Level.USER: "that you can see",
        Level.SYSTEM: "of every patient",
    }[clinical.level]
    return f"{', '.join(verbs).capitalize()} {what} {whose}"
