"""The laboratory's coded values: order status and priority, result status, abnormal flags, inbox status."""

from __future__ import annotations

import enum


class OrderStatus(enum.StrEnum):
    """A lab order's lifecycle; `lifecycle.py` says which moves are legal."""

    REGISTERED = "registered"
    COLLECTED = "collected"
    IN_PROGRESS = "in_progress"
    PRELIMINARY = "preliminary"
    FINAL = "final"
    CORRECTED = "corrected"
    CANCELLED = "cancelled"


class Priority(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    STAT = "stat"


class ResultStatus(enum.StrEnum):
    """OBX-11 as we keep it: P, F and C (HL7 table 0085)."""

    PRELIMINARY = "preliminary"
    FINAL = "final"
    CORRECTED = "corrected"

    @property
    def is_released(self) -> bool:
        """Released to the patient: verified by the laboratory."""
        return self is not ResultStatus.PRELIMINARY


class ValueType(enum.StrEnum):
    """OBX-2 (HL7 table 0125): numeric, structured numeric or text."""

    NUMERIC = "NM"
    STRUCTURED_NUMERIC = "SN"
    STRING = "ST"
    TEXT = "TX"
    FORMATTED_TEXT = "FT"
    CODED = "CWE"
    ENCAPSULATED_DATA = "ED"  # a document (a PDF report, an image), kept as a data: URI
    FAMILY_NAME = "FN"


class AbnormalFlag(enum.StrEnum):
    """HL7 table 0078 (interpretation codes, v2.5 to v2.8)."""

    LOW = "L"
    HIGH = "H"
    CRITICAL_LOW = "LL"
    CRITICAL_HIGH = "HH"
    SIGNIFICANTLY_LOW = "LU"
    SIGNIFICANTLY_HIGH = "HU"
    BELOW_LIMIT = "<"
    ABOVE_LIMIT = ">"
    NORMAL = "N"
    ABNORMAL = "A"
    CRITICALLY_ABNORMAL = "AA"
    SIGNIFICANT_CHANGE_UP = "U"
    SIGNIFICANT_CHANGE_DOWN = "D"
    BETTER = "B"
    WORSE = "W"
    SUSCEPTIBLE = "S"
    RESISTANT = "R"
    INTERMEDIATE = "I"
    MODERATELY_SUSCEPTIBLE = "MS"
    VERY_SUSCEPTIBLE = "VS"
    NEGATIVE = "NEG"
    POSITIVE = "POS"
    INDETERMINATE = "IND"
    DETECTED = "DET"
    NOT_DETECTED = "ND"
    ANTI_COMPLEMENTARY = "AC"
    REFERENCE_RANGE_UNAVAILABLE = "NR"
    RANGE_REPORTED_UNAVAILABLE = "RR"
    QC_FAILURE = "QCF"
    TOXIC = "TOX"
    CARRIER = "CAR"
    SYNERGY_RESISTANT = "SYN-R"
    SYNERGY_SUSCEPTIBLE = "SYN-S"


class MessageStatus(enum.StrEnum):
    """Where an inbound HL7 message stands in the inbox."""

    ACCEPTED = "accepted"  # filed; acknowledged AA
    ERROR = "error"  # acceptable but not filed (unknown order, mismatch); AE, waits for a person
    REJECTED = "rejected"  # not an acceptable ORU^R01 at all; AR, waits for a person
    RESOLVED = "resolved"  # a person reprocessed or dismissed it
    DUPLICATE = "duplicate"  # a repeat of a filed message (same sender and control id); AA, not refiled


OPEN_MESSAGE_STATUSES = frozenset({MessageStatus.ERROR, MessageStatus.REJECTED})


class Resolution(enum.StrEnum):
    REPROCESSED = "reprocessed"
    DISMISSED = "dismissed"
    RETRANSMITTED = "retransmitted"  # the sender sent it again and the repeat was filed
