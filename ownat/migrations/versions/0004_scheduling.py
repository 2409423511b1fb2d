"""scheduling: appointment types, working hours, schedule exceptions, appointments

Revision ID: 0004_scheduling
Revises: 0003_patients_org
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_scheduling"
down_revision: str | None = "0003_patients_org"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Half-open ranges: one appointment may end at the instant the next starts. Cancelled and
# no-show appointments release their time, so they are left out of the constraints.
APPOINTMENT_RANGE = "tstzrange(start_at, end_at, '[)')"
HOLDS_SLOT = "status NOT IN ('cancelled', 'no_show')"


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "appointment_types",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("in_person", "video", name="mode", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("duration_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("cancellation_window_hours", sa.SmallInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "cancellation_window_hours BETWEEN 0 AND 720", name=op.f("ck_appointment_types_window_range")
        ),
        sa.CheckConstraint("duration_minutes BETWEEN 5 AND 480", name=op.f("ck_appointment_types_duration_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_types")),
        sa.UniqueConstraint("code", name=op.f("uq_appointment_types_code")),
    )
    op.create_table(
        "working_hours",
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("start_time <> end_time", name=op.f("ck_working_hours_not_empty")),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_working_hours_valid_range")),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_working_hours_iso_weekday")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_working_hours_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_working_hours_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_hours")),
    )
    op.create_index("ix_working_hours_practitioner_id_weekday", "working_hours", ["practitioner_id", "weekday"])
    op.create_table(
        "schedule_exceptions",
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "reason",
            sa.Enum("leave", "holiday", "other", name="reason", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_schedule_exceptions_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_schedule_exceptions_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_schedule_exceptions_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_exceptions")),
    )
    op.create_index(
        "ix_schedule_exceptions_practitioner_id_start_at", "schedule_exceptions", ["practitioner_id", "start_at"]
    )
    op.create_table(
        "appointments",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_type_id", sa.Uuid(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "checked_in",
                "in_progress",
                "completed",
                "cancelled",
                "no_show",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("booked_by", sa.Uuid(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Uuid(), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=500), nullable=True),
        sa.Column("reschedule_count", sa.SmallInteger(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_appointments_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_types.id"],
            name=op.f("fk_appointments_appointment_type_id_appointment_types"),
        ),
        sa.ForeignKeyConstraint(
            ["booked_by"], ["users.id"], name=op.f("fk_appointments_booked_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["users.id"], name=op.f("fk_appointments_cancelled_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["practitioners.id"], name=op.f("fk_appointments_practitioner_id_practitioners")
        ),
        sa.ForeignKeyConstraint(
            ["status_changed_by"],
            ["users.id"],
            name=op.f("fk_appointments_status_changed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index("ix_appointments_patient_id_start_at", "appointments", ["patient_id", "start_at"])
    op.create_index("ix_appointments_practitioner_id_start_at", "appointments", ["practitioner_id", "start_at"])
    op.create_index("ix_appointments_start_at_id", "appointments", ["start_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses double booking of a practitioner or of a patient.
        # btree_gist lets a GiST index compare uuids with =; trusted since PostgreSQL 13.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for column, name in (("practitioner_id", "practitioner"), ("patient_id", "patient")):
            op.execute(
                f"ALTER TABLE appointments ADD CONSTRAINT ex_appointments_{name}_overlap "
                f"EXCLUDE USING gist ({column} WITH =, {APPOINTMENT_RANGE} WITH &&) WHERE ({HOLDS_SLOT})"
            )


def downgrade() -> None:
    # btree_gist stays: other schemas use it, and it holds no data.
    op.drop_index("ix_appointments_start_at_id", table_name="appointments")
    op.drop_index("ix_appointments_practitioner_id_start_at", table_name="appointments")
    op.drop_index("ix_appointments_patient_id_start_at", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_schedule_exceptions_practitioner_id_start_at", table_name="schedule_exceptions")
    op.drop_table("schedule_exceptions")
    op.drop_index("ix_working_hours_practitioner_id_weekday", table_name="working_hours")
    op.drop_table("working_hours")
    op.drop_table("appointment_types")
