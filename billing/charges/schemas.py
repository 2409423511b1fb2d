"""Charge item requests and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from billing.charges.models import ChargeSource
from billing.fees import Code, TaxRate

_STRICT = ConfigDict(extra="forbid")


class ProcedureCharge(BaseModel):
    model_config = _STRICT

    code: Code
    quantity: int = Field(default=1, ge=1, le=1000)


class EncounterCharges(BaseModel):
    """What to charge from a finished encounter; each source is charged once, whatever the requests."""

    model_config = _STRICT

    consultation: bool = Field(default=True, description="The consultation type matching the duration")
    lab_orders: bool = Field(default=True, description="Each test of the encounter's lab orders")
    procedures: list[ProcedureCharge] = Field(default=[], max_length=100)


class ManualCharge(BaseModel):
    """A charge entered by billing staff for a fee-schedule code, priced at the service date."""

    model_config = _STRICT

    patient_id: uuid.UUID
    code: Code
    service_date: date
    quantity: int = Field(default=1, ge=1, le=1000)
    description: str | None = Field(default=None, min_length=1, max_length=255)


class ChargeUpdate(BaseModel):
    """Billing staff's corrections before the charge is invoiced."""

    model_config = _STRICT

    quantity: int | None = Field(default=None, ge=1, le=1000)
    unit_price_minor: int | None = Field(default=None, ge=0, le=10**12)
    tax_rate_bp: TaxRate | None = None
    description: str | None = Field(default=None, min_length=1, max_length=255)
    service_date: date | None = None


class ChargeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None
    source_type: ChargeSource
    code: str
    description: str
    service_date: date
    quantity: int
    unit_price_minor: int
    currency: str
    tax_rate_bp: int
    invoice_id: uuid.UUID | None
    created_at: datetime


class EncounterChargesRead(BaseModel):
    created: list[ChargeRead]
    already_charged: list[ChargeRead] = Field(description="Sources charged before: not charged again")
