"""observation charting: full NEWS2 sets with the oxygen device and flow, and SpO2 scale assignments

Revision ID: 0041_observation_charting
Revises: 0021_visit_payments
Create Date: 2026-12-07

`news2_observations` gains the oxygen device and flow (L/min) the NEWS2 chart records beside "air
or oxygen", and `full_set`, true when the row is the charting of a whole set (whose measured
values are recorded vitals). Existing rows were partial chartings: `full_set` false.
`spo2_scale_assignments` keeps each clinician's choice of SpO2 scale for a patient, with the
reason; the latest is in force.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041_observation_charting"
down_revision: str | None = "0021_visit_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OXYGEN_DEVICES = (
    "nasal_cannula",
    "simple_mask",
    "venturi_mask",
    "non_rebreather_mask",
    "high_flow_nasal",
    "cpap_niv",
    "tracheostomy_mask",
    "other",
)


def upgrade() -> None:
    with op.batch_alter_table("news2_observations") as batch:
        batch.add_column(
            sa.Column(
                "oxygen_device",
                sa.Enum(
                    *OXYGEN_DEVICES,
                    name="oxygen_device",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("oxygen_flow_l_min", sa.Float(precision=53), nullable=True))
        batch.add_column(sa.Column("full_set", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "spo2_scale_assignments",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_spo2_scale_assignments_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["users.id"],
            name=op.f("fk_spo2_scale_assignments_set_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spo2_scale_assignments")),
    )
    op.create_index(
        "ix_spo2_scale_assignments_patient_id_set_at",
        "spo2_scale_assignments",
        ["patient_id", "set_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_spo2_scale_assignments_patient_id_set_at", table_name="spo2_scale_assignments")
    op.drop_table("spo2_scale_assignments")
    with op.batch_alter_table("news2_observations") as batch:
        batch.drop_column("full_set")
        batch.drop_column("oxygen_flow_l_min")
        batch.drop_column("oxygen_device")
