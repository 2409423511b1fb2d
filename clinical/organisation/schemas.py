"""What the organisation endpoints accept and return: departments, practitioners, wards and beds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.db import utc_now

_STRICT = ConfigDict(extra="forbid")
_READ = ConfigDict(from_attributes=True)

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Prefix = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
# Lower-case codes such as "cardiology" or "general-practice": what practitioners are searched by.
Specialty = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z][A-Za-z0-9-]{1,63}$")
]
BedLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class DepartmentCreate(BaseModel):
    model_config = _STRICT

    code: Code = Field(examples=["CARD"])
    name: Name
    active: bool = True


class DepartmentUpdate(BaseModel):
    model_config = _STRICT

    name: Name | None = None
    active: bool | None = None


class DepartmentRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    code: str
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime


class Qualification(BaseModel):
    """A degree, licence or certificate; `year` awarded."""

    model_config = _STRICT

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    display: Name | None = None
    issuer: Name | None = None
    year: int | None = Field(default=None, ge=1900)

    @field_validator("year")
    @classmethod
    def _not_future(cls, year: int | None) -> int | None:
        if year is not None and year > utc_now().year:
            raise ValueError(f"year {year} is in the future")
        return year


def _unique(values: list[str]) -> list[str]:
    return sorted(set(values))


class PractitionerCreate(BaseModel):
    """A practitioner; `user_id` links the staff account (clinician or nurse) they sign in with."""

    model_config = _STRICT

    user_id: uuid.UUID | None = None
    prefix: Prefix | None = None
    given_name: PersonName
    family_name: PersonName
    specialties: list[Specialty] = Field(default_factory=list, max_length=20)
    qualifications: list[Qualification] = Field(default_factory=list, max_length=50)
    department_id: uuid.UUID | None = None
    active: bool = True

    @field_validator("specialties")
    @classmethod
    def _dedupe(cls, specialties: list[str]) -> list[str]:
        return _unique(specialties)


class PractitionerUpdate(BaseModel):
    """Changes; `specialties` and `qualifications`, when given, replace the lists."""

    model_config = _STRICT

    prefix: Prefix | None = None
    given_name: PersonName | None = None
    family_name: PersonName | None = None
    specialties: list[Specialty] | None = Field(default=None, max_length=20)
    qualifications: list[Qualification] | None = Field(default=None, max_length=50)
    department_id: uuid.UUID | None = None
    active: bool | None = None

    @field_validator("specialties")
    @classmethod
    def _dedupe(cls, specialties: list[str] | None) -> list[str] | None:
        return None if specialties is None else _unique(specialties)


class PractitionerRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    user_id: uuid.UUID | None
    prefix: str | None
    given_name: str
    family_name: str
    specialties: list[str]
    qualifications: list[Qualification]
    department_id: uuid.UUID | None
    active: bool
    created_at: datetime
    updated_at: datetime


class WardCreate(BaseModel):
    model_config = _STRICT

    department_id: uuid.UUID
    code: Code = Field(examples=["ICU-1"])
    name: Name
    active: bool = True


class WardUpdate(BaseModel):
    model_config = _STRICT

    name: Name | None = None
    department_id: uuid.UUID | None = None
    active: bool | None = None


class WardRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    department_id: uuid.UUID
    code: str
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime


class BedCreate(BaseModel):
    model_config = _STRICT

    label: BedLabel = Field(examples=["12A"])
    active: bool = True


class BedUpdate(BaseModel):
    model_config = _STRICT

    label: BedLabel | None = None
    active: bool | None = None


class BedRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    ward_id: uuid.UUID
    label: str
    active: bool
    created_at: datetime
    updated_at: datetime
