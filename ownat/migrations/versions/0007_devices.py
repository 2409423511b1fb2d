"""devices: the device registry, device credentials and device bindings

Revision ID: 0007_devices
Revises: 0006_lab
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_devices"
down_revision: str | None = "0006_lab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Coded values are strings checked by constraints, not native enums: adding a kind stays a small change.
KINDS = ("bedside_monitor", "pulse_oximeter", "bp_cuff", "thermometer", "scale", "wearable", "gateway")
STATUSES = ("active", "deactivated", "revoked")
# A binding covers [start_at, end_at); NULL end_at is an open upper bound.
BINDING_RANGE = "tstzrange(start_at, end_at, '[)')"


def _enum(values: tuple[str, ...], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=length)


def _check(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    # Named as the models' naming convention names it; op.create_table would not.
    return sa.CheckConstraint(f"{column} IN {values!r}", name=op.f(f"ck_{table}_{column}"))


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="SET NULL"
    )


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", _enum(KINDS, "kind", 32), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("firmware", sa.String(length=64), nullable=True),
        sa.Column("status", _enum(STATUSES, "status", 16), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("registered_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        _check("kind", KINDS, "devices"),
        _check("status", STATUSES, "devices"),
        _user_fk("devices", "registered_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_devices_device_id")),
        sa.UniqueConstraint("manufacturer", "serial", name=op.f("uq_devices_manufacturer_serial")),
    )
    op.create_index(op.f("ix_devices_status"), "devices", ["status"], unique=False)

    op.create_table(
        "device_credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_uuid", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_uuid"],
            ["devices.id"],
            name=op.f("fk_device_credentials_device_uuid_devices"),
            ondelete="CASCADE",
        ),
        _user_fk("device_credentials", "issued_by"),
        _user_fk("device_credentials", "revoked_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_credentials")),
    )
    op.create_index(
        op.f("ix_device_credentials_device_uuid"), "device_credentials", ["device_uuid"], unique=False
    )
    # At most one usable secret per device.
    op.create_index(
        "ix_device_credentials_one_active",
        "device_credentials",
        ["device_uuid"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
        sqlite_where=sa.text("revoked_at IS NULL"),
    )

    op.create_table(
        "device_bindings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_uuid", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("bed_id", sa.Uuid(), nullable=True),
        sa.Column("ward_id", sa.Uuid(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bound_by", sa.Uuid(), nullable=True),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("end_at IS NULL OR end_at > start_at", name=op.f("ck_device_bindings_ends_after_start")),
        sa.CheckConstraint("patient_id IS NOT NULL OR bed_id IS NOT NULL", name=op.f("ck_device_bindings_has_target")),
        sa.CheckConstraint("bed_id IS NULL OR ward_id IS NOT NULL", name=op.f("ck_device_bindings_bed_has_ward")),
        sa.ForeignKeyConstraint(
            ["device_uuid"], ["devices.id"], name=op.f("fk_device_bindings_device_uuid_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_device_bindings_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["bed_id"], ["beds.id"], name=op.f("fk_device_bindings_bed_id_beds")),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_device_bindings_ward_id_wards")),
        _user_fk("device_bindings", "bound_by"),
        _user_fk("device_bindings", "ended_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_bindings")),
    )
    op.create_index("ix_device_bindings_device_uuid_start_at", "device_bindings", ["device_uuid", "start_at"])
    op.create_index("ix_device_bindings_patient_id_start_at", "device_bindings", ["patient_id", "start_at"])
    op.create_index("ix_device_bindings_ward_id_end_at", "device_bindings", ["ward_id", "end_at"])
    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses two bindings of one device at once. btree_gist lets a GiST index
        # compare uuids with = (0003 creates it too; IF NOT EXISTS keeps this migration self-sufficient).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE device_bindings ADD CONSTRAINT ex_device_bindings_device_overlap "
            f"EXCLUDE USING gist (device_uuid WITH =, {BINDING_RANGE} WITH &&)"
        )


def downgrade() -> None:
    op.drop_index("ix_device_bindings_ward_id_end_at", table_name="device_bindings")
    op.drop_index("ix_device_bindings_patient_id_start_at", table_name="device_bindings")
    op.drop_index("ix_device_bindings_device_uuid_start_at", table_name="device_bindings")
    op.drop_table("device_bindings")
    op.drop_index("ix_device_credentials_one_active", table_name="device_credentials")
    op.drop_index(op.f("ix_device_credentials_device_uuid"), table_name="device_credentials")
    op.drop_table("device_credentials")
    op.drop_index(op.f("ix_devices_status"), table_name="devices")
    op.drop_table("devices")
