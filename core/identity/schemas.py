"""What the identity endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from core.identity.models import NAME_MAX_LENGTH
from core.identity.passwords import PASSWORD_MAX_LENGTH
from core.principal import STAFF_ROLES, Role

# Passwords are taken as typed (no stripping); the policy, not the schema, judges their strength.
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)]
# Parts of a patient's name, as the clinical record keeps them (empty given names: mononyms).
GivenName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
FamilyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Long enough for any token we issue (64 characters), short enough to refuse junk early.
OpaqueToken = Annotated[str, Field(min_length=1, max_length=256)]

_STRICT = ConfigDict(extra="forbid")


class PatientRegistration(BaseModel):
    """A patient's sign-up. Names default to the full name split at its last word; the birth date,
    if given, is checked by the clinical record created alongside (future dates are refused)."""

    model_config = _STRICT

    email: EmailStr
    password: Password
    full_name: FullName
    given_name: GivenName | None = None
    family_name: FamilyName | None = None
    birth_date: date | None = None


class StaffCreate(BaseModel):
    model_config = _STRICT

    email: EmailStr
    password: Password
    full_name: FullName
    role: Role

    @field_validator("role")
    @classmethod
    def _staff_only(cls, role: Role) -> Role:
        if role not in STAFF_ROLES and role is not Role.BILLING:
            raise ValueError(
                "staff accounts have the role admin, clinician, nurse or billing; patients register themselves"
            )
        return role


class UserUpdate(BaseModel):
    """Changes an administrator may make; omitted fields stay as they are."""

    model_config = _STRICT

    role: Role | None = None
    is_active: bool | None = None
    full_name: FullName | None = None


class LoginRequest(BaseModel):
    model_config = _STRICT

    # Not validated as an address: a malformed one simply matches no account, with the same answer.
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Password


class RefreshRequest(BaseModel):
    model_config = _STRICT

    refresh_token: OpaqueToken


class LogoutRequest(BaseModel):
    model_config = _STRICT

    refresh_token: OpaqueToken | None = None


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    patient_id: uuid.UUID | None
    is_active: bool
    created_at: datetime


class AddressRequest(BaseModel):
    """An address to send an account email to (a new verification link, a reset link)."""

    model_config = _STRICT

    # Not validated as an address beyond its length: a malformed one is answered like any other.
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]


class LinkRedemption(BaseModel):
    model_config = _STRICT

    token: OpaqueToken


class PasswordReset(BaseModel):
    model_config = _STRICT

    token: OpaqueToken
    password: Password


class PasswordChange(BaseModel):
    model_config = _STRICT

    current_password: Password
    new_password: Password


class Accepted(BaseModel):
    """The same answer whatever the address: what happens next is said in the email."""

    detail: str


class PasswordPolicyRead(BaseModel):
    """The rules a new password must follow, for forms to explain while people type."""

    min_length: int
    max_length: int
    rules: list[str]
