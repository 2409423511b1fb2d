"""Scheduling tables: appointment types, weekly working hours, schedule exceptions, appointments.

On PostgreSQL two exclusion constraints make double booking impossible whatever the code does:
no two slot-holding appointments of one practitioner, nor of one patient, may overlap in time.
SQLite (embedded mode, serialised transactions) has no such constraint; the service checks there.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text, Time, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinical.scheduling.state_machine import RELEASING_STATUSES, AppointmentStatus
from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, value_set_column

CODE_MAX_LENGTH = 32
TIME_ZONE_MAX_LENGTH = 64  # the longest IANA name is about 32 characters
# Half-open: one appointment may end at the instant the next one starts.
APPOINTMENT_RANGE = text("tstzrange(start_at, end_at, '[)')")
HOLDS_SLOT = text("status NOT IN (" + ", ".join(f"'{s.value}'" for s in sorted(RELEASING_STATUSES)) + ")")
PRACTITIONER_OVERLAP = "ex_appointments_practitioner_overlap"
PATIENT_OVERLAP = "ex_appointments_patient_overlap"


class AppointmentMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class ExceptionReason(enum.StrEnum):
    LEAVE = "leave"
    HOLIDAY = "holiday"
    OTHER = "other"


class AppointmentType(PublicIdMixin, TimestampMixin, Base):
    """A kind of visit: its length sets the slot grid; its window limits patients' cancellations."""

    __tablename__ = "appointment_types"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("cancellation_window_hours BETWEEN 0 AND 720", name="window_range"),
    )

    code: Mapped[str] = mapped_column(String(CODE_MAX_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[AppointmentMode] = mapped_column(value_set_column(AppointmentMode, "mode", 16))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    cancellation_window_hours: Mapped[int] = mapped_column(SmallInteger, default=24)
    active: Mapped[bool] = mapped_column(default=True)


class WorkingHours(PublicIdMixin, TimestampMixin, Base):
    """A weekly block of a practitioner's hours, in local wall-clock time (see `weekly`)."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="iso_weekday"),
        CheckConstraint("start_time <> end_time", name="not_empty"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        Index("ix_working_hours_practitioner_id_weekday", "practitioner_id", "weekday"),
    )

    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO 8601: 1 = Monday ... 7 = Sunday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)  # not after start_time: ends the next day
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_MAX_LENGTH))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # inclusive; open-ended when null
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScheduleException(PublicIdMixin, TimestampMixin, Base):
    """A time the practitioner is away (leave, a holiday), overriding their working hours."""

    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        Index("ix_schedule_exceptions_practitioner_id_start_at", "practitioner_id", "start_at"),
    )

    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[ExceptionReason] = mapped_column(value_set_column(ExceptionReason, "reason", 16))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Appointment(PublicIdMixin, TimestampMixin, Base):
    """A booked visit of one patient with one practitioner over [start_at, end_at)."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        ExcludeConstraint(
            ("practitioner_id", "="),
            (APPOINTMENT_RANGE, "&&"),
            name=PRACTITIONER_OVERLAP,
            using="gist",
            where=HOLDS_SLOT,
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            ("patient_id", "="),
            (APPOINTMENT_RANGE, "&&"),
            name=PATIENT_OVERLAP,
            using="gist",
            where=HOLDS_SLOT,
        ).ddl_if(dialect="postgresql"),
        # Listing by practitioner or patient walks (…, start_at, id); so does the SQLite overlap check.
        Index("ix_appointments_practitioner_id_start_at", "practitioner_id", "start_at"),
        Index("ix_appointments_patient_id_start_at", "patient_id", "start_at"),
        Index("ix_appointments_start_at_id", "start_at", "id"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    appointment_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointment_types.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = mapped_column(
        value_set_column(AppointmentStatus, "status", 16), default=AppointmentStatus.BOOKED
    )
    reason: Mapped[str | None] = mapped_column(String(500))  # why the patient comes
    notes: Mapped[str | None] = mapped_column(Text)
    booked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    reschedule_count: Mapped[int] = mapped_column(SmallInteger, default=0)

    appointment_type: Mapped[AppointmentType] = relationship(lazy="joined", innerjoin=True)
