"""vitals: readings (time-partitioned), one-minute rollups, ingest dead letters, device status

Revision ID: 0008_vitals
Revises: 0007_devices
Create Date: 2026-11-23

How `vital_readings` is stored depends on the database (TimescaleDB hypertable, native daily range
partitions, or a plain SQLite table); `devices.vitals.partitions` holds those statements, which the
ingest workers use again for partition upkeep.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from devices import vitals

revision: str = "0008_vitals"
down_revision: str | None = "0007_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOAT = sa.Float(precision=53)


def upgrade() -> None:
    bind = op.get_bind()
    storage = vitals.choose_storage(bind)
    op.create_table(
        "vital_readings",
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("value", FLOAT, nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "metric", "time", name="pk_vital_readings"),
        **vitals.table_options(storage),
    )
    op.create_index(
        "ix_vital_readings_patient_id_metric_time",
        "vital_readings",
        ["patient_id", "metric", sa.text("time DESC")],
    )
    op.create_index("ix_vital_readings_time", "vital_readings", ["time"], postgresql_using="brin")
    vitals.finish_storage(bind, storage)

    op.create_table(
        "vital_rollups_1m",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("min_value", FLOAT, nullable=False),
        sa.Column("max_value", FLOAT, nullable=False),
        sa.Column("sum_value", FLOAT, nullable=False),
        sa.Column("count", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", "metric", "bucket", "device_id", name="pk_vital_rollups_1m"),
    )
    op.create_index("ix_vital_rollups_1m_bucket", "vital_rollups_1m", ["bucket"])

    op.create_table(
        "ingest_dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=512), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_dead_letters")),
    )
    op.create_index(
        "ix_ingest_dead_letters_resolved_received_at", "ingest_dead_letters", ["resolved", "received_at"]
    )
    op.create_index(
        "ix_ingest_dead_letters_device_id_received_at", "ingest_dead_letters", ["device_id", "received_at"]
    )

    op.create_table(
        "device_status",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("battery_pct", sa.Integer(), nullable=True),
        sa.Column("sensor_off", sa.Boolean(), nullable=False),
        sa.Column("firmware", sa.String(length=64), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_status")),
    )


def downgrade() -> None:
    op.drop_table("device_status")
    op.drop_index("ix_ingest_dead_letters_device_id_received_at", table_name="ingest_dead_letters")
    op.drop_index("ix_ingest_dead_letters_resolved_received_at", table_name="ingest_dead_letters")
    op.drop_table("ingest_dead_letters")
    op.drop_index("ix_vital_rollups_1m_bucket", table_name="vital_rollups_1m")
    op.drop_table("vital_rollups_1m")
    op.drop_index("ix_vital_readings_time", table_name="vital_readings")
    op.drop_index("ix_vital_readings_patient_id_metric_time", table_name="vital_readings")
    # Dropping the parent drops its partitions (or a hypertable's chunks) with it.
    op.drop_table("vital_readings")
    vitals.drop_storage(op.get_bind())
