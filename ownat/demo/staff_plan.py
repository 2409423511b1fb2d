"""The demo hospital's organisation: departments, practitioners and their clinics, wards, visit types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from clinical.scheduling import AppointmentMode
from ownat.demo.specs import IN_PERSON, VIDEO, ClinicianPlan, Qualification


@dataclass(frozen=True, slots=True)
class WardPlan:
    code: str
    name: str
    department: str
    beds: int
    # Device ids of its monitors: "{device_prefix}-bed03".
    device_prefix: str


@dataclass(frozen=True, slots=True)
class VisitTypePlan:
    code: str
    name: str
    mode: AppointmentMode
    minutes: int
    cancellation_window_hours: int


DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("IMED", "Internal Medicine"),
    ("CARD", "Cardiology"),
    ("RESP", "Respiratory Medicine"),
    ("GPTH", "General Practice and Telehealth"),
)

WARDS: tuple[WardPlan, ...] = (
    WardPlan("W4B", "Ward 4B — Medical", "IMED", 8, "ward4b"),
    WardPlan("CCU", "CCU — Coronary Care Unit", "CARD", 4, "ccu"),
)

VISIT_TYPES: tuple[VisitTypePlan, ...] = (
    VisitTypePlan(IN_PERSON, "In-person consultation", AppointmentMode.IN_PERSON, 20, 24),
    VisitTypePlan(VIDEO, "Video consultation", AppointmentMode.VIDEO, 15, 2),
)

WEEKDAYS = (1, 2, 3, 4, 5)
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)

# The demo clinician's account is `clinician@demo.ownat.org` (see accounts.DEMO_ACCOUNTS).
DEMO_CLINICIAN = "morgan"
DEMO_NURSE = "haddad"

CLINICIANS: tuple[ClinicianPlan, ...] = (
    ClinicianPlan(
        "morgan", "Dr", "Casey", "Morgan", "GPTH", ("general-practice", "telehealth"),
        (
            Qualification("MBChB", "Bachelor of Medicine and Surgery", "University of Edinburgh", 2009),
            Qualification("MRCGP", "Member of the Royal College of GPs", "RCGP", 2014),
        ),
        # The telehealth service runs every day, so the demo always has a video clinic today or tomorrow.
        weekdays=EVERY_DAY, start=time(8), end=time(20),
    ),
    ClinicianPlan(
        "rahman", "Dr", "Aisha", "Rahman", "GPTH", ("general-practice",),
        (Qualification("MBBS", "Bachelor of Medicine and Surgery", "King's College London", 2011),),
        weekdays=WEEKDAYS, start=time(8, 30), end=time(17),
    ),
    ClinicianPlan(
        "okafor", "Dr", "Amara", "Okafor", "CARD", ("cardiology",),
        (
            Qualification("MBBS", "Bachelor of Medicine and Surgery", "University of Lagos", 2004),
            Qualification("FRCP", "Fellow of the Royal College of Physicians", "RCP London", 2016),
        ),
        weekdays=(1, 3, 5), email="amara.okafor@demo.ownat.org",
    ),
    ClinicianPlan(
        "tanaka", "Dr", "Hiroshi", "Tanaka", "RESP", ("respiratory-medicine",),
        (Qualification("MD", "Doctor of Medicine", "Kyoto University", 2006),),
        weekdays=(2, 4), end=time(16), email="hiroshi.tanaka@demo.ownat.org", leave_from_day=7,
    ),
    ClinicianPlan(
        "petrova", "Dr", "Elena", "Petrova", "IMED", ("internal-medicine",),
        (Qualification("MD", "Doctor of Medicine", "Charles University, Prague", 2008),),
        # Ward rounds in the morning, clinic in the afternoon.
        weekdays=WEEKDAYS, start=time(13), email="elena.petrova@demo.ownat.org",
    ),
    ClinicianPlan(
        "mendes", "Dr", "Rafael", "Mendes", "IMED", ("internal-medicine", "infectious-diseases"),
        (Qualification("MD", "Doctor of Medicine", "University of São Paulo", 2010),),
        weekdays=(2, 3, 4, 5, 6), start=time(8), end=time(13),
    ),
    ClinicianPlan(
        "haddad", None, "Noor", "Haddad", "IMED", ("nursing",),
        (Qualification("RN", "Registered Nurse", "Nursing and Midwifery Council", 2015),),
    ),
)  # fmt: skip


def clinician(key: str) -> ClinicianPlan:
    """The plan of the practitioner with this key."""
    return next(c for c in CLINICIANS if c.key == key)


def ward(code: str) -> WardPlan:
    return next(w for w in WARDS if w.code == code)


def visit_type(code: str) -> VisitTypePlan:
    return next(t for t in VISIT_TYPES if t.code == code)
