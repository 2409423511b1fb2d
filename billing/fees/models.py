"""Fee schedule tables: billable services and their prices over effective date ranges.

Two prices of one service never overlap in time. PostgreSQL enforces it with an exclusion
constraint (btree_gist); the service layer checks it too, which is all SQLite gets.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.money import amount_column, currency_column
from core.db import Base, PublicIdMixin, TimestampMixin, value_set_column


class ServiceKind(enum.StrEnum):
    PROCEDURE = "procedure"  # a CPT/HCPCS-style procedure code
    CONSULTATION = "consultation"  # a consultation type, chosen by the encounter's duration
    LAB_TEST = "lab_test"  # a laboratory test, linked to its LOINC code in the lab catalogue


class BillableService(PublicIdMixin, TimestampMixin, Base):
    """One code of the fee schedule."""

    __tablename__ = "billing_services"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'consultation') = (min_duration_min IS NOT NULL)", name="duration_band_for_consultations"
        ),
        CheckConstraint("(kind = 'lab_test') = (loinc_code IS NOT NULL)", name="loinc_for_lab_tests"),
        CheckConstraint(
            "max_duration_min IS NULL OR max_duration_min > min_duration_min", name="duration_band_ordered"
        ),
        CheckConstraint("min_duration_min IS NULL OR min_duration_min >= 0", name="duration_not_negative"),
        # One lab test code bills one LOINC code; both dialects enforce it (partial unique index).
        Index(
            "uq_billing_services_loinc_code",
            "loinc_code",
            unique=True,
            postgresql_where=text("loinc_code IS NOT NULL"),
            sqlite_where=text("loinc_code IS NOT NULL"),
        ),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[ServiceKind] = mapped_column(value_set_column(ServiceKind, "billing_service_kind", 16))
    display: Mapped[str] = mapped_column(String(255))
    # Consultations: the band [min, max) of minutes they cover; max null means "and longer".
    min_duration_min: Mapped[int | None] = mapped_column(Integer)
    max_duration_min: Mapped[int | None] = mapped_column(Integer)
    loinc_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)


class ServicePrice(PublicIdMixin, TimestampMixin, Base):
    """A service's price from `valid_from` until the day before `valid_to` (open-ended when null)."""

    __tablename__ = "billing_service_prices"
    __table_args__ = (
        Index("ix_billing_service_prices_service_id_valid_from", "service_id", "valid_from"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range_ordered"),
        CheckConstraint(
            "tax_rate_bp IS NULL OR (tax_rate_bp >= 0 AND tax_rate_bp <= 10000)", name="tax_rate"
        ),
        ExcludeConstraint(
            ("service_id", "="),
            (func.daterange(text("valid_from"), text("valid_to"), text("'[)'")), "&&"),
            name="billing_service_prices_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_services.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(amount_column())
    currency: Mapped[str] = mapped_column(currency_column())
    # Null: the organisation's default rate from settings applies.
    tax_rate_bp: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
