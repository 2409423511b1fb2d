"""Errors of the FHIR interface; they are domain errors, rendered as OperationOutcome on `/fhir/R4`."""

from __future__ import annotations

import uuid

from core.errors import DomainError, Forbidden, NotFound


class InvalidSearch(DomainError):
    """A search the server cannot run as asked: FHIR answers 400 rather than ignoring a criterion."""

    status, code, title = 400, "invalid-search", "Invalid search"


class UnsupportedParameter(InvalidSearch):
    code, title = "unsupported-search-parameter", "Unsupported search parameter"


class UnknownResourceType(NotFound):
    code, title = "unknown-resource-type", "Unknown resource type"


class NotAcceptable(DomainError):
    status, code, title = 406, "not-acceptable", "Not acceptable"


class OtherPatientsResource(Forbidden):
    """The resource exists but belongs to another patient's record (refused, audited as denied)."""

    def __init__(self, detail: str, *, patient_id: uuid.UUID) -> None:
        super().__init__(detail)
        self.patient_id = patient_id


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class PreconditionFailed(DomainError):
    """`If-Match` named a version that is not the current one (someone changed it since)."""

    status, code, title = 412, "precondition-failed", "Precondition failed"


class InvalidResource(DomainError):
    """A resource sent for a write that does not say what this server needs, or contradicts itself."""

    status, code, title = 400, "invalid-resource", "Invalid resource"


class Gone(DomainError):
    """The resource (or the version asked for) was deleted."""

    status, code, title = 410, "gone", "Gone"


class MethodNotAllowed(DomainError):
    status, code, title = 405, "method-not-allowed", "Method not allowed"
