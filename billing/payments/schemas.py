"""Payment and refund requests and answers. Amounts are integer minor units: a float is refused.
Every request refuses a card number anywhere in it (`card_numbers.NoCardNumbers`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from billing.fees import Currency
from billing.payments.card_numbers import NoCardNumbers
from billing.payments.models import PaymentMethod, PaymentStatus, RefundStatus

_STRICT = ConfigDict(extra="forbid")
# StrictInt: 12.5 (or "1250") is refused rather than silently turned into cents.
Amount = Annotated[StrictInt, Field(gt=0, le=10**12, description="Minor units (cents), a positive integer")]


class PaymentCreate(NoCardNumbers):
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
        "carries a client secret for the browser to confirm the payment with the gateway. Patients pay "
        "on the gateway's page instead: POST .../checkout",
    )


class CheckoutCreate(NoCardNumbers):
    """A card payment on the gateway's hosted page; send an `Idempotency-Key` header with it."""

    model_config = _STRICT

    amount_minor: Amount
    currency: Currency


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
    checkout_url: str | None = Field(
        validation_alias="gateway_checkout_url",
        description="Card payments on the gateway's page: send the browser here while the payment is pending",
    )
    failure_reason: str | None
    settled_at: datetime | None
    created_at: datetime


class RefundCreate(NoCardNumbers):
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


class PaymentOptions(BaseModel):
    """How this server takes payments, for pages to offer only what works."""

    card: bool = Field(description="Card payments on the gateway's page are configured")
    test_mode: bool = Field(description="The gateway is in test mode (a test key): no real card is charged")
