"""Errors of the organisation package; `api` renders them as problem+json."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound


class DepartmentNotFound(NotFound):
    code = "department-not-found"


class PractitionerNotFound(NotFound):
    code = "practitioner-not-found"


class WardNotFound(NotFound):
    code = "ward-not-found"


class BedNotFound(NotFound):
    code = "bed-not-found"


class AdmissionNotFound(NotFound):
    code = "admission-not-found"


class UnknownReference(InvalidInput):
    """The body names a department, user, bed or patient that does not exist (or is unsuitable)."""

    code = "unknown-reference"


class DuplicateName(Conflict):
    code = "duplicate"
    title = "Already exists"


class BedOccupied(Conflict):
    code = "bed-occupied"
    title = "Bed occupied"


class PatientAlreadyAdmitted(Conflict):
    code = "patient-already-admitted"
    title = "Patient already in a bed"


class AdmissionClosed(Conflict):
    code = "admission-closed"
    title = "Admission already ended"


class ImplausibleTime(InvalidInput):
    code = "implausible-time"
    title = "Implausible time"
