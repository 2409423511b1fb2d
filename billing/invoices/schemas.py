"""Invoice requests and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from billing.invoices.models import InvoiceStatus

_STRICT = ConfigDict(extra="forbid")


class InvoiceCreate(BaseModel):
    """A draft for one patient from their uninvoiced charges (all of them, or those named)."""

    model_config = _STRICT

    patient_id: uuid.UUID
    charge_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=1000)


class InvoiceUpdate(BaseModel):
    model_config = _STRICT

    note: str | None = Field(default=None, max_length=1000)
    add_charge_ids: list[uuid.UUID] = Field(default=[], max_length=500)


class LineUpdate(BaseModel):
    """A draft line's discount (an amount in minor units) or quantity."""

    model_config = _STRICT

    discount_minor: int | None = Field(default=None, ge=0, le=10**12)
    quantity: int | None = Field(default=None, ge=1, le=1000)


class InvoiceVoid(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=1, max_length=500)


class InvoiceLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    charge_item_id: uuid.UUID | None
    code: str
    description: str
    service_date: date | None
    quantity: int
    unit_price_minor: int
    discount_minor: int
    tax_rate_bp: int
    tax_minor: int
    total_minor: int


class InvoiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str = ""
    patient_mrn: str = ""
    number: str | None
    status: InvoiceStatus
    currency: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    paid_minor: int
    pending_minor: int = Field(description="Reserved by card payments the gateway has not settled yet")
    balance_minor: int
    note: str | None
    issued_at: datetime | None
    due_date: date | None
    voided_at: datetime | None
    void_reason: str | None
    created_at: datetime
    lines: list[InvoiceLineRead]
