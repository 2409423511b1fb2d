"""Fee schedule requests and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from billing.fees.models import ServiceKind

_STRICT = ConfigDict(extra="forbid")
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, the organisation's currency")]
TaxRate = Annotated[int, Field(ge=0, le=10_000, description="Basis points: 1900 is 19 %")]


class ServiceCreate(BaseModel):
    model_config = _STRICT

    code: Code
    kind: ServiceKind
    display: str = Field(min_length=1, max_length=255)
    min_duration_min: int | None = Field(default=None, ge=0, le=24 * 60)
    max_duration_min: int | None = Field(default=None, ge=1, le=24 * 60)
    loinc_code: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")

    @model_validator(mode="after")
    def _kind_fields(self) -> ServiceCreate:
        is_consultation = self.kind is ServiceKind.CONSULTATION
        if is_consultation != (self.min_duration_min is not None):
            raise ValueError("consultations, and only they, have a duration band (min_duration_min)")
        if not is_consultation and self.max_duration_min is not None:
            raise ValueError("only consultations have a duration band")
        if (
            self.max_duration_min is not None
            and self.min_duration_min is not None
            and self.max_duration_min <= self.min_duration_min
        ):
            raise ValueError("max_duration_min must be greater than min_duration_min")
        if (self.kind is ServiceKind.LAB_TEST) != (self.loinc_code is not None):
            raise ValueError("lab tests, and only they, name the LOINC code they bill")
        return self


class ServiceUpdate(BaseModel):
    model_config = _STRICT

    display: str | None = Field(default=None, min_length=1, max_length=255)
    active: bool | None = None


class PriceCreate(BaseModel):
    model_config = _STRICT

    amount_minor: int = Field(ge=0, le=10**12, description="Minor units (cents), never a float")
    currency: Currency
    tax_rate_bp: TaxRate | None = Field(default=None, description="Null: the organisation's default rate")
    valid_from: date
    valid_to: date | None = Field(default=None, description="Exclusive; null: until further notice")

    @model_validator(mode="after")
    def _ordered(self) -> PriceCreate:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class PriceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    amount_minor: int
    currency: str
    tax_rate_bp: int | None
    valid_from: date
    valid_to: date | None


class ServiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    kind: ServiceKind
    display: str
    min_duration_min: int | None
    max_duration_min: int | None
    loinc_code: str | None
    active: bool
    created_at: datetime
    prices: list[PriceRead] = []
