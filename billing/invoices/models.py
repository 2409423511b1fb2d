"""Invoice tables: the invoice with its stored totals, its lines, and the yearly number counters."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.money import amount_column, currency_column
from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, value_set_column


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class Invoice(PublicIdMixin, TimestampMixin, Base):
    """One bill to one patient in the organisation's currency; totals are stored, not recomputed."""

    __tablename__ = "billing_invoices"
    __table_args__ = (
        Index("ix_billing_invoices_patient_id_created_at", "patient_id", "created_at"),
        Index("ix_billing_invoices_created_at_id", "created_at", "id"),
        CheckConstraint("subtotal_minor >= 0 AND discount_minor >= 0 AND tax_minor >= 0", name="parts"),
        CheckConstraint("total_minor = subtotal_minor - discount_minor + tax_minor", name="total_adds_up"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        # Settled and reserved (pending card) money together never exceed the total: no overpayment.
        CheckConstraint(
            "paid_minor >= 0 AND pending_minor >= 0 AND paid_minor + pending_minor <= total_minor",
            name="paid_within_total",
        ),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="numbered_unless_draft"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    status: Mapped[InvoiceStatus] = mapped_column(value_set_column(InvoiceStatus, "invoice_status", 16))
    # "INV-2026-000123": assigned when issued, from the year's counter, without gaps.
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    currency: Mapped[str] = mapped_column(currency_column())
    subtotal_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    discount_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    tax_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    total_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    # Received and kept (payments settled less refunds), and reserved by card payments in flight.
    paid_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    pending_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    note: Mapped[str | None] = mapped_column(String(1000))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_date: Mapped[date | None] = mapped_column(Date)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="InvoiceLine.position",
    )

    @property
    def balance_minor(self) -> int:
        """What the patient still owes."""
        return self.total_minor - self.paid_minor


class InvoiceLine(PublicIdMixin, Base):
    """One line: a charge item (or a staff-entered adjustment) with its discount and tax."""

    __tablename__ = "billing_invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="unit_price_not_negative"),
        CheckConstraint(
            "discount_minor >= 0 AND discount_minor <= quantity * unit_price_minor", name="discount_within"
        ),
        CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name="tax_rate"),
        CheckConstraint("tax_minor >= 0", name="tax_not_negative"),
        CheckConstraint(
            "total_minor = quantity * unit_price_minor - discount_minor + tax_minor", name="total_adds_up"
        ),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    charge_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("billing_charge_items.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(255))
    service_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(amount_column())
    discount_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    tax_minor: Mapped[int] = mapped_column(amount_column())
    total_minor: Mapped[int] = mapped_column(amount_column())

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceCounter(Base):
    """The last number issued in a year; its row is locked by the issuing transaction (no gaps)."""

    __tablename__ = "billing_invoice_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_not_negative"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
