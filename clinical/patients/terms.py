"""The FHIR R4 value sets used by patient records (codes exactly as FHIR spells them)."""

from __future__ import annotations

import enum


class AdministrativeGender(enum.StrEnum):
    """http://hl7.org/fhir/administrative-gender"""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class AllergyCategory(enum.StrEnum):
    FOOD = "food"
    MEDICATION = "medication"
    ENVIRONMENT = "environment"
    BIOLOGIC = "biologic"


class AllergyCriticality(enum.StrEnum):
    LOW = "low"
    HIGH = "high"
    UNABLE_TO_ASSESS = "unable-to-assess"


class AllergyStatus(enum.StrEnum):
    """AllergyIntolerance clinical status; `entered-in-error` (its verification status) marks a removal."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    RESOLVED = "resolved"
    ENTERED_IN_ERROR = "entered-in-error"


class ConditionStatus(enum.StrEnum):
    """Condition clinical status; `entered-in-error` (its verification status) marks a removal."""

    ACTIVE = "active"
    RECURRENCE = "recurrence"
    RELAPSE = "relapse"
    INACTIVE = "inactive"
    REMISSION = "remission"
    RESOLVED = "resolved"
    ENTERED_IN_ERROR = "entered-in-error"


class MedicationStatus(enum.StrEnum):
    """MedicationStatement status; `entered-in-error` marks a removal."""

    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    STOPPED = "stopped"
    INTENDED = "intended"
    ENTERED_IN_ERROR = "entered-in-error"
