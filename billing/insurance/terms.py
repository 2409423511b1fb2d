"""Coded values of insurance: claim states and their allowed moves, relationships, places of service."""

from __future__ import annotations

import enum


class ClaimStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # the payer acknowledged a well-formed claim (277CA) and is adjudicating it
    DENIED = "denied"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"


class CoverageRelationship(enum.StrEnum):
    """The patient's relationship to the subscriber (FHIR subscriber-relationship)."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class CoverageStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


# States a claim may be adjudicated from: a payer may skip the acknowledgement step.
ADJUDICABLE = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED})
# The claim's outcome is final in these states; a correction is a new claim.
SETTLED = frozenset({ClaimStatus.DENIED, ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID})

# CMS place-of-service codes by encounter class.
PLACE_OF_SERVICE = {"ambulatory": "11", "virtual": "02", "inpatient": "21"}
