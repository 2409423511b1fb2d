"""Payment and refund requests and answers. Amounts are integer minor units: a float is refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from billing.fees.schemas import Currency
from billing.payments.models import PaymentMethod, PaymentStatus, RefundStatus

_STRICT = ConfigDict(extra="forbid")
# StrictInt: 12.5 (or "1250") is refused rather than silently turned into cents.
Amount = Annotated[StrictInt, Field(gt=0, le=10**12, description="Minor units (cents), a positive integer")]


class PaymentCreate(BaseModel):
    """A payment against an invoice; send an `Idempotency-Key` header with it."""

    model_config = _STRICT

    method: PaymentMethod
    amount_minor: Amount
    currency: Currency
    reference: str | None = Field(default=None, max_length=140, description="Bank or receipt reference")
    payment_method: str | None = Field(
        default=None,
        max_length=255,
        pattern=r"^[A-Za-z0-9_]+$",
        description="Card payments: a gateway payment-method token to charge now; without it the answer "
        "carries a client secret for the browser to confirm the payment with the gateway",
    )


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    invoice_id: uuid.UUID
    patient_id: uuid.UUID
    method: PaymentMethod
    status: PaymentStatus
    amount_minor: int
    currency: str
    refunded_minor: int
    reference: str | None
    gateway_intent_id: str | None
    gateway_client_secret: str | None
    failure_reason: str | None
    settled_at: datetime | None
    created_at: datetime


class RefundCreate(BaseModel):
    model_config = _STRICT

    amount_minor: Amount
    currency: Currency
    reason: str | None = Field(default=None, max_length=500)


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    status: RefundStatus
    amount_minor: int
    currency: str
    reason: str | None
    gateway_refund_id: str | None
    failure_reason: str | None
    settled_at: datetime | None
    created_at: datetime
