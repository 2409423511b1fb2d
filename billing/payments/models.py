"""Payment, refund and gateway-event tables.

A card payment is written (pending, its amount reserved on the invoice) before the gateway is
called, so a crash between the two loses nothing: the retry or the webhook finds the row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.money import amount_column, currency_column
from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # card: reserved on the invoice, waiting for the gateway
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(PublicIdMixin, TimestampMixin, Base):
    """Money received (or being received) against one invoice."""

    __tablename__ = "billing_payments"
    __table_args__ = (
        # The same caller's Idempotency-Key names one payment, whatever the race.
        UniqueConstraint("created_by", "idempotency_key", name="uq_billing_payments_idempotency"),
        Index("ix_billing_payments_invoice_id_created_at", "invoice_id", "created_at"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refund_within"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_invoices.id", ondelete="RESTRICT"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    method: Mapped[PaymentMethod] = mapped_column(value_set_column(PaymentMethod, "payment_method", 16))
    status: Mapped[PaymentStatus] = mapped_column(value_set_column(PaymentStatus, "payment_status", 16))
    amount_minor: Mapped[int] = mapped_column(amount_column())
    currency: Mapped[str] = mapped_column(currency_column())
    # Refunded or reserved by a refund in flight; never more than the amount.
    refunded_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    reference: Mapped[str | None] = mapped_column(String(140))  # bank reference, receipt number
    gateway_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    gateway_client_secret: Mapped[str | None] = mapped_column(String(255))
    # The gateway's hosted payment page (a checkout) where the patient types the card, if paid there.
    gateway_checkout_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    gateway_checkout_url: Mapped[str | None] = mapped_column(String(2048))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class Refund(PublicIdMixin, TimestampMixin, Base):
    """Money given back from one payment; card refunds go through the gateway."""

    __tablename__ = "billing_refunds"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key", name="uq_billing_refunds_idempotency"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("billing_payments.id", ondelete="RESTRICT"), index=True
    )
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("billing_invoices.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[RefundStatus] = mapped_column(value_set_column(RefundStatus, "refund_status", 16))
    amount_minor: Mapped[int] = mapped_column(amount_column())
    currency: Mapped[str] = mapped_column(currency_column())
    reason: Mapped[str | None] = mapped_column(String(500))
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class GatewayEvent(Base):
    """A webhook event received from the gateway, kept once: a redelivery is recognised by its id."""

    __tablename__ = "billing_gateway_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
