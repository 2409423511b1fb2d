"""Problems found in an HL7 v2 message, each with the acknowledgement it earns."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AckCode(enum.StrEnum):
    """HL7 table 0008, original acknowledgement mode."""

    ACCEPT = "AA"
    ERROR = "AE"
    REJECT = "AR"


class ErrorCode(enum.IntEnum):
    """HL7 table 0357 (message error condition codes), the ones this interface reports."""

    SEGMENT_SEQUENCE = 100
    REQUIRED_FIELD_MISSING = 101
    DATA_TYPE = 102
    TABLE_VALUE_NOT_FOUND = 103
    UNSUPPORTED_MESSAGE_TYPE = 200
    UNSUPPORTED_EVENT = 201
    UNSUPPORTED_VERSION = 203
    UNKNOWN_KEY = 204
    DUPLICATE_KEY = 205
    INTERNAL_ERROR = 207

    @property
    def text(self) -> str:
        return _ERROR_TEXT[self]


_ERROR_TEXT = {
    ErrorCode.SEGMENT_SEQUENCE: "Segment sequence error",
    ErrorCode.REQUIRED_FIELD_MISSING: "Required field missing",
    ErrorCode.DATA_TYPE: "Data type error",
    ErrorCode.TABLE_VALUE_NOT_FOUND: "Table value not found",
    ErrorCode.UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    ErrorCode.UNSUPPORTED_EVENT: "Unsupported event code",
    ErrorCode.UNSUPPORTED_VERSION: "Unsupported version id",
    ErrorCode.UNKNOWN_KEY: "Unknown key identifier",
    ErrorCode.DUPLICATE_KEY: "Duplicate key identifier",
    ErrorCode.INTERNAL_ERROR: "Application internal error",
}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: segment id, its sequence among segments of that id, field number."""

    segment: str
    sequence: int = 1
    field: int | None = None


class Hl7Problem(Exception):
    """A message we cannot file: AR when it is not an acceptable ORU^R01 at all, AE otherwise."""

    def __init__(
        self, ack: AckCode, code: ErrorCode, reason: str, *, location: Location | None = None
    ) -> None:
        super().__init__(reason)
        self.ack = ack
        self.code = code
        self.reason = reason
        self.location = location


def rejected(code: ErrorCode, reason: str, location: Location | None = None) -> Hl7Problem:
    """The message is not one we accept (unparseable, wrong type or version): AR."""
    return Hl7Problem(AckCode.REJECT, code, reason, location=location)


def application_error(code: ErrorCode, reason: str, location: Location | None = None) -> Hl7Problem:
    """An acceptable message whose content we cannot file (unknown order, bad value): AE."""
    return Hl7Problem(AckCode.ERROR, code, reason, location=location)
