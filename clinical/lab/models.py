"""Laboratory tables: orders and their tests, results, and the inbox of received HL7 messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from clinical.lab.terms import (
    AbnormalFlag,
    MessageStatus,
    OrderStatus,
    Priority,
    Resolution,
    ResultStatus,
    ValueType,
)
from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column

PLACER_NUMBER_LENGTH = 22  # EI.1 in HL7 v2.3 is 22 characters wide; ours fit every version


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal kept exactly: NUMERIC on PostgreSQL, its text on SQLite (whose numbers are floats)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class LabOrder(PublicIdMixin, TimestampMixin, Base):
    """One requisition: tests ordered together for one patient, under one placer order number."""

    __tablename__ = "lab_orders"
    __table_args__ = (
        Index("ix_lab_orders_patient_id_created_at", "patient_id", "created_at"),
        Index("ix_lab_orders_status_created_at", "status", "created_at"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_exactly_when_cancelled"
        ),
    )

    placer_order_number: Mapped[str] = mapped_column(String(PLACER_NUMBER_LENGTH), unique=True)
    # The laboratory's own number for the order (OBR-3), learned from its first result message.
    filler_order_number: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), index=True
    )
    ordering_practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT"), index=True
    )
    ordered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    priority: Mapped[Priority] = mapped_column(value_set_column(Priority, "lab_priority", 16))
    status: Mapped[OrderStatus] = mapped_column(value_set_column(OrderStatus, "lab_order_status", 16))
    clinical_note: Mapped[str | None] = mapped_column(Text)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    in_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preliminary_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # From the laboratory's latest report: OBR-7 (when observed, e.g. collected), OBR-22 (when it
    # reported) and its comments (NTE under the OBR, and specimen details that are not results).
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_note: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[LabOrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="LabOrderItem.position",
    )


class LabOrderItem(PublicIdMixin, Base):
    """One test of an order, with the catalogue's code, name, specimen and unit as they were when ordered."""

    __tablename__ = "lab_order_items"
    __table_args__ = (UniqueConstraint("order_id", "loinc_code"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lab_orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    loinc_code: Mapped[str] = mapped_column(String(16))
    display: Mapped[str] = mapped_column(String(255))
    specimen: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(32))

    order: Mapped[LabOrder] = relationship(back_populates="items")


class LabResult(PublicIdMixin, TimestampMixin, Base):
    """One reported value of one ordered test. A later report of the same test supersedes it."""

    __tablename__ = "lab_results"
    __table_args__ = (
        Index("ix_lab_results_order_id_created_at", "order_id", "created_at"),
        Index("ix_lab_results_patient_id_loinc_code_observed_at", "patient_id", "loinc_code", "observed_at"),
        # One current result per test; both dialects enforce it (partial unique index).
        Index(
            "uq_lab_results_current_per_item",
            "order_item_id",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
            sqlite_where=text("superseded_at IS NULL"),
        ),
    )

    order_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lab_order_items.id", ondelete="CASCADE"))
    # Copies of the item's order and patient, so that scoped reads filter without joins.
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lab_orders.id", ondelete="CASCADE"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    loinc_code: Mapped[str] = mapped_column(String(16))
    value_type: Mapped[ValueType] = mapped_column(value_set_column(ValueType, "lab_value_type", 4))
    # The value exactly as reported ("5.40", "<0.5", "Positive"); numbers also as a decimal.
    value: Mapped[str] = mapped_column(Text)
    value_numeric: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    comparator: Mapped[str | None] = mapped_column(String(2))
    unit: Mapped[str | None] = mapped_column(String(32))  # as reported
    unit_code: Mapped[str | None] = mapped_column(String(32))  # its UCUM code, when it is one (lab.units)
    reference_low: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    reference_high: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    reference_text: Mapped[str | None] = mapped_column(String(64))
    abnormal_flag: Mapped[AbnormalFlag | None] = mapped_column(
        value_set_column(AbnormalFlag, "abnormal_flag", 8)
    )
    status: Mapped[ResultStatus] = mapped_column(value_set_column(ResultStatus, "lab_result_status", 16))
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("hl7_messages.id", ondelete="RESTRICT"), index=True
    )
    entered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)  # the laboratory's comments (NTE after the OBX)


class Hl7Message(PublicIdMixin, TimestampMixin, Base):
    """Every HL7 message received, filed or not: the raw text, what we answered, and why."""

    __tablename__ = "hl7_messages"
    __table_args__ = (
        Index("ix_hl7_messages_sender_control_id", "sending_application", "sending_facility", "control_id"),
        Index("ix_hl7_messages_status_received_at", "status", "received_at"),
    )

    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    channel: Mapped[str] = mapped_column(String(8))  # "http" or "mllp"
    received_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    control_id: Mapped[str | None] = mapped_column(String(199))
    sending_application: Mapped[str | None] = mapped_column(String(255))
    sending_facility: Mapped[str | None] = mapped_column(String(255))
    message_type: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[MessageStatus] = mapped_column(value_set_column(MessageStatus, "hl7_message_status", 16))
    ack_code: Mapped[str] = mapped_column(String(2))
    error_code: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    # What the message says, kept for whoever triages it.
    patient_identifier: Mapped[str | None] = mapped_column(String(64))
    patient_name: Mapped[str | None] = mapped_column(String(200))
    placer_order_number: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lab_orders.id", ondelete="RESTRICT"), index=True
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("hl7_messages.id", ondelete="RESTRICT")
    )
    resolution: Mapped[Resolution | None] = mapped_column(value_set_column(Resolution, "hl7_resolution", 16))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
