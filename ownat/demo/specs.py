"""The shapes of the demo hospital's plan: plain frozen data, turned into records by the seeding modules.

Dates of birth, onsets and medication starts are absolute (they are history); everything that
happens around "now" (stays, visits, bookings) is relative, so the demo looks current any day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

from clinical.encounters import DoseUnit, PeriodUnit, Route
from clinical.lab import Priority
from clinical.patients import AdministrativeGender, AllergyCategory, AllergyCriticality, ConditionStatus

VIDEO = "video-15"
IN_PERSON = "in-person-20"


@dataclass(frozen=True, slots=True)
class Rx:
    """A prescription: `dose` `unit` by `route`, `times` per `period` `period_unit`."""

    medication: str
    dose: str
    unit: DoseUnit
    route: Route
    times: int
    period: int = 1
    period_unit: PeriodUnit = PeriodUnit.DAY
    days: int | None = None
    as_needed: bool = False
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class Labs:
    """A lab order and, unless `pending`, its final results as (LOINC code, value)."""

    tests: tuple[tuple[str, str], ...]
    note: str | None = None
    priority: Priority = Priority.ROUTINE
    pending: bool = False
    # Hours after the encounter starts at which the laboratory observed the results.
    result_after_h: float = 3.0


def awaiting(note: str, *loinc_codes: str) -> Labs:
    """An order placed for later: registered, awaiting collection, no results yet."""
    return Labs(tuple((code, "") for code in loinc_codes), note, pending=True)


@dataclass(frozen=True, slots=True)
class Obs:
    """One set of observations (units: /min, mm[Hg], %, Cel, kg)."""

    hr: float
    sbp: float
    dbp: float
    rr: float
    spo2: float
    temp: float
    weight: float | None = None


@dataclass(frozen=True, slots=True)
class Consult:
    """What a clinician records in an encounter."""

    note: str
    diagnoses: tuple[str, ...] = ()
    prescriptions: tuple[Rx, ...] = ()
    labs: tuple[Labs, ...] = ()
    obs: Obs | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    """A past appointment `days_ago` (moved back to the clinician's last working day before it)."""

    clinician: str
    kind: str
    days_ago: int
    at: time
    reason: str
    consult: Consult | None = None
    outcome: Literal["completed", "no_show", "cancelled"] = "completed"


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A booking at the first free slot from `days` ahead at `at` local time (or `hours` from now)."""

    clinician: str
    kind: str
    reason: str
    days: int = 0
    at: time | None = None
    hours: float = 0.0
    # Booked by the patient through the portal rather than by the clinic.
    by_patient: bool = False


@dataclass(frozen=True, slots=True)
class Stay:
    """A current admission to a bed, with the clerking encounter still in progress."""

    ward: str
    bed: int
    hours_ago: int
    attending: str
    reason: str
    consult: Consult
    # The live monitor's course (devices.simulator scenarios); one patient deteriorates.
    scenario: str = "stable"


@dataclass(frozen=True, slots=True)
class Allergy:
    substance: str
    category: AllergyCategory
    criticality: AllergyCriticality
    reaction: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    icd10: str
    onset: date | None = None
    status: ConditionStatus = ConditionStatus.ACTIVE
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Med:
    """A medication statement (what the patient takes), not a prescription."""

    name: str
    dose: str
    route: str = "oral"
    started: date | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str | None = None
    city: str = "London"
    country: str = "GB"
    language: str = "en-GB"
    emergency_name: str | None = None
    emergency_relationship: str | None = None
    emergency_phone: str | None = None


@dataclass(frozen=True, slots=True)
class PatientPlan:
    key: str
    given: str
    family: str
    gender: AdministrativeGender
    birth: date
    contact: Contact = field(default_factory=Contact)
    allergies: tuple[Allergy, ...] = ()
    problems: tuple[Problem, ...] = ()
    meds: tuple[Med, ...] = ()
    # The clinician who keeps the problem list (the GP, or the attending for inpatients).
    recorded_by: str = "morgan"
    stay: Stay | None = None
    visits: tuple[Visit, ...] = ()
    upcoming: tuple[Upcoming, ...] = ()
    # The demo patient's own account (patient@demo.ownat.org) rather than a clinic registration.
    is_demo_account: bool = False


@dataclass(frozen=True, slots=True)
class Qualification:
    code: str
    display: str
    issuer: str
    year: int


@dataclass(frozen=True, slots=True)
class ClinicianPlan:
    """A practitioner; `email` None means no sign-in account (and so no history of their own)."""

    key: str
    prefix: str | None
    given: str
    family: str
    department: str
    specialties: tuple[str, ...]
    qualifications: tuple[Qualification, ...]
    # ISO weekdays and local hours; empty for staff without bookable clinics.
    weekdays: tuple[int, ...] = ()
    start: time = time(9)
    end: time = time(17)
    email: str | None = None
    # Days from today of a week's annual leave, if any.
    leave_from_day: int | None = None
