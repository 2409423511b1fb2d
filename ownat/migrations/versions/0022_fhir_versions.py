"""fhir versions: resource versions for vread and _history; lab report times, comments and units

Revision ID: 0022_fhir_versions
Revises: 0014_device_coverage
Create Date: 2026-12-07

`fhir_resource_versions` keeps each version of a FHIR resource the server wrote or served (see
`clinical.fhir.models`). The laboratory tables gain what HL7 v2 results carry and were dropped:
OBR-7 and OBR-22 and the report's comments on orders; the comments and the UCUM code of the unit
on results; and the value types ED (encapsulated documents) and FN (family names). Recorded vitals
note whether the patient reported them (home measurements sent by the patient, e.g. through FHIR).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022_fhir_versions"
down_revision: str | None = "0014_device_coverage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_VALUE_TYPES = ("NM", "SN", "ST", "TX", "FT", "CWE")
NEW_VALUE_TYPES = (*OLD_VALUE_TYPES, "ED", "FN")
VALUE_TYPE_CHECK = "ck_lab_results_lab_value_type"


def _value_types(values: Sequence[str]) -> str:
    return "value_type IN ({})".format(", ".join(f"'{v}'" for v in values))


def upgrade() -> None:
    op.create_table(
        "fhir_resource_versions",
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("content", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "resource_type", "resource_id", "version_id", name="pk_fhir_resource_versions"
        ),
    )
    op.create_index(
        "ix_fhir_resource_versions_type_recorded_at",
        "fhir_resource_versions",
        ["resource_type", "recorded_at"],
    )
    op.create_index("ix_fhir_resource_versions_patient_id", "fhir_resource_versions", ["patient_id"])
    with op.batch_alter_table("lab_orders") as batch:
        batch.add_column(sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("report_note", sa.Text(), nullable=True))
    with op.batch_alter_table("lab_results") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch.drop_constraint(op.f(VALUE_TYPE_CHECK), type_="check")
        batch.create_check_constraint("lab_value_type", _value_types(NEW_VALUE_TYPES))
    with op.batch_alter_table("recorded_vitals") as batch:
        batch.add_column(
            sa.Column("reported_by_patient", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Units filed before this revision came from HL7 OBX-6 or the catalogue and were published as
    # UCUM; they stay text only until a person or a new result says what they are.


def downgrade() -> None:
    with op.batch_alter_table("recorded_vitals") as batch:
        batch.drop_column("reported_by_patient")
    with op.batch_alter_table("lab_results") as batch:
        batch.drop_constraint(op.f(VALUE_TYPE_CHECK), type_="check")
        batch.create_check_constraint("lab_value_type", _value_types(OLD_VALUE_TYPES))
        batch.drop_column("note")
        batch.drop_column("unit_code")
    with op.batch_alter_table("lab_orders") as batch:
        batch.drop_column("report_note")
        batch.drop_column("reported_at")
        batch.drop_column("effective_at")
    op.drop_index("ix_fhir_resource_versions_patient_id", table_name="fhir_resource_versions")
    op.drop_index("ix_fhir_resource_versions_type_recorded_at", table_name="fhir_resource_versions")
    op.drop_table("fhir_resource_versions")
