"""The laboratory's domain errors; `api` renders them as problem+json with these codes."""

from __future__ import annotations

from core.errors import Conflict, DomainError, InvalidInput, NotFound


class LabOrderNotFound(NotFound):
    code = "lab-order-not-found"


class IllegalTransition(Conflict):
    """The order's status does not allow this move (e.g. collecting a cancelled order)."""

    code = "lab-order-illegal-transition"


class ResultRefused(Conflict):
    """A result that the order or the test's earlier results do not admit (e.g. F after F)."""

    code = "lab-result-refused"


class UnknownTest(InvalidInput):
    code = "lab-unknown-test"


class MessageNotFound(NotFound):
    code = "hl7-message-not-found"


class MessageNotOpen(Conflict):
    """Only messages waiting in the inbox (error or rejected) can be resolved."""

    code = "hl7-message-not-open"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"
