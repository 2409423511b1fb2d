"""What the patient endpoints accept and return (flat demographics; FHIR mapping lives elsewhere)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from clinical.patients.dates import check_birth_date
from clinical.patients.terms import AdministrativeGender
from core.paging import Page

_STRICT = ConfigDict(extra="forbid")


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
GivenName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]  # empty for mononyms
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Relationship = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()./-]{3,30}$")]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
]

# Fields a patient may change on their own record; everything else is for staff.
CONTACT_FIELDS = frozenset(
    {
        "phone",
        "email",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "country",
        "preferred_language",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
    }
)


class PatientContact(BaseModel):
    """Contact details and address; ISO 3166 country, BCP 47 language."""

    model_config = _STRICT

    phone: Phone | None = None
    email: EmailStr | None = None
    address_line1: Line | None = None
    address_line2: Line | None = None
    city: Place | None = None
    region: Place | None = None
    postal_code: PostalCode | None = None
    country: Country | None = Field(default=None, examples=["GB"])
    preferred_language: Language | None = Field(default=None, examples=["en-GB"])
    emergency_contact_name: Line | None = None
    emergency_contact_relationship: Relationship | None = None
    emergency_contact_phone: Phone | None = None


class PatientCreate(PatientContact):
    """A new patient registered by staff; the MRN is generated."""

    given_name: GivenName = ""
    family_name: Name
    birth_date: date
    gender: AdministrativeGender = AdministrativeGender.UNKNOWN

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        return check_birth_date(value)


class PatientUpdate(PatientContact):
    """Changes to a patient; omitted fields stay. Patients may change only their contact details."""

    given_name: GivenName | None = None
    family_name: Name | None = None
    birth_date: date | None = None
    gender: AdministrativeGender | None = None
    deceased: bool | None = None
    deceased_at: AwareDatetime | None = None
    active: bool | None = None

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        return check_birth_date(value)


class PatientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mrn: str
    user_id: uuid.UUID | None
    given_name: str
    family_name: str
    birth_date: date | None
    gender: AdministrativeGender
    phone: str | None
    email: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    preferred_language: str | None
    emergency_contact_name: str | None
    emergency_contact_relationship: str | None
    emergency_contact_phone: str | None
    deceased: bool
    deceased_at: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime


class PatientPage(Page[PatientRead]):
    """One page of a search, with how many patients match in all."""

    total: int
