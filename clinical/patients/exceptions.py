"""Errors of the patients package; `api` renders them as problem+json."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, InvalidInput, NotFound


class PatientNotFound(NotFound):
    code = "patient-not-found"


class RecordNotFound(NotFound):
    """An allergy, condition, medication or identifier that is not on this patient's record."""

    code = "record-not-found"


class IdentifierTaken(Conflict):
    code = "identifier-taken"
    title = "Identifier already assigned"


class ContactDetailsOnly(Forbidden):
    code = "contact-details-only"
    title = "Patients may change only their contact details"


class ImplausibleDates(InvalidInput):
    code = "implausible-dates"
    title = "Implausible dates"
