"""The claim as the outside world sees it: plain values that the X12 837P and FHIR Claim writers share.

Built from the stored claim (`billing.insurance.export`) so that both formats say the same thing and
the writers stay free of database code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    region: str
    postal_code: str
    line2: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Person:
    given_name: str
    family_name: str
    birth_date: date | None
    gender: str  # FHIR AdministrativeGender: male, female, other, unknown
    address: Address | None


@dataclass(frozen=True)
class BillingProvider:
    """The organisation that bills (loop 2010AA), also the submitter (1000A) in this deployment."""

    name: str
    npi: str
    tax_id: str
    address: Address
    contact_name: str
    contact_phone: str
    submitter_id: str
    taxonomy_code: str | None = None


@dataclass(frozen=True)
class PayerParty:
    name: str
    payer_id: str  # the payer's electronic id (NM1*PR ... PI)


@dataclass(frozen=True)
class CoverageParty:
    member_id: str
    group_number: str | None
    plan_name: str
    relationship: str  # self, spouse, child, other: the patient's relationship to the subscriber
    priority: int  # 1 primary, 2 secondary, 3 tertiary
    subscriber: Person
    coverage_id: str


@dataclass(frozen=True)
class DiagnosisEntry:
    code: str  # ICD-10 with its dot, as the clinical record keeps it
    display: str


@dataclass(frozen=True)
class ServiceLine:
    number: int  # 1-based, the line's sequence in the claim
    code: str  # CPT/HCPCS-style procedure code
    description: str
    quantity: int
    charge_minor: int
    service_date: date
    diagnosis_pointers: tuple[int, ...]  # 1-based positions in ClaimDocument.diagnoses


@dataclass(frozen=True)
class ClaimDocument:
    claim_id: str
    claim_number: str  # the patient control number (CLM01), at most 20 characters
    currency: str
    created_at: datetime
    submitted_at: datetime
    control_number: int  # interchange control number of this submission, 1..999999999
    place_of_service: str  # CMS place of service code, e.g. 11 office, 02 telehealth
    provider: BillingProvider
    payer: PayerParty
    coverage: CoverageParty
    patient: Person
    patient_id: str
    encounter_id: str
    diagnoses: tuple[DiagnosisEntry, ...]
    lines: tuple[ServiceLine, ...]

    @property
    def total_minor(self) -> int:
        return sum(line.charge_minor for line in self.lines)
