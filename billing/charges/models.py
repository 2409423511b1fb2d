"""Charge items. A source (an encounter's consultation, a lab order's test) is charged at most once."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.money import amount_column, currency_column
from core.db import Base, PublicIdMixin, TimestampMixin, value_set_column


class ChargeSource(enum.StrEnum):
    CONSULTATION = "consultation"  # source_key: the encounter's id
    PROCEDURE = "procedure"  # source_key: "<encounter id>:<code>" (quantity counts repeats)
    LAB_TEST = "lab_test"  # source_key: the lab order item's id
    MANUAL = "manual"  # entered by billing staff; source_key: a fresh id


class ChargeItem(PublicIdMixin, TimestampMixin, Base):
    """One billable item for one patient, priced at its service date; editable until invoiced."""

    __tablename__ = "billing_charge_items"
    __table_args__ = (
        # The database refuses double-charging one source, whatever the race.
        UniqueConstraint("source_type", "source_key", name="uq_billing_charge_items_source"),
        Index("ix_billing_charge_items_patient_id_created_at", "patient_id", "created_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="unit_price_not_negative"),
        CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name="tax_rate"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), index=True
    )
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_services.id", ondelete="RESTRICT"))
    source_type: Mapped[ChargeSource] = mapped_column(value_set_column(ChargeSource, "charge_source", 16))
    source_key: Mapped[str] = mapped_column(String(80))
    # Code, text and price as they were on the service date: later fee changes do not rewrite them.
    code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(255))
    service_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_minor: Mapped[int] = mapped_column(amount_column())
    currency: Mapped[str] = mapped_column(currency_column())
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    # Set while the charge is on a draft or issued invoice; cleared when that invoice is voided.
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("billing_invoices.id", ondelete="RESTRICT"), index=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
