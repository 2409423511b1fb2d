"""encounters, clinical notes and addenda, diagnoses, prescriptions, recorded vitals, documents

Revision ID: 0005_encounters_documents
Revises: 0004_scheduling
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_encounters_documents"
down_revision: str | None = "0004_scheduling"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A signed note is a legal record: the service refuses changes, and so does the database, so
# that neither a bug nor a hand-written UPDATE can rewrite it. Drafts stay editable and deletable.
SIGNED_NOTE_FUNCTION = """
CREATE FUNCTION clinical_notes_signed_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'clinical note % is signed and cannot be changed: % refused', OLD.id, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
"""
# Addenda are how a signed note changes; they are themselves never changed.
ADDENDA_FUNCTION = """
CREATE FUNCTION note_addenda_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'note_addenda is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
"""

# The code lists as they are at this revision (the enums in the models may grow in later ones).
DOSE_UNITS = (
    "mg", "g", "ug", "mL", "L", "[iU]", "unit", "mmol", "tablet", "capsule", "puff", "drop", "patch", "sachet",
    "suppository", "application",
)  # fmt: skip
ROUTES = (
    "oral", "sublingual", "buccal", "iv", "im", "sc", "intradermal", "inhaled", "nasal", "topical", "transdermal",
    "ophthalmic", "otic", "rectal", "vaginal",
)  # fmt: skip
DOCUMENT_KINDS = (
    "report", "imaging", "lab_result", "referral", "prescription", "consent", "discharge_summary", "other",
)  # fmt: skip


def _enum(name: str, *values: str, length: int = 16) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="RESTRICT"
    )


def upgrade() -> None:
    op.create_table(
        "encounters",
        _id(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column(
            "encounter_class", _enum("encounter_class", "ambulatory", "virtual", "inpatient"), nullable=False
        ),
        sa.Column(
            "status",
            _enum("encounter_status", "planned", "in_progress", "finished", "cancelled"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "(status = 'finished') = (ended_at IS NOT NULL)",
            name=op.f("ck_encounters_ended_exactly_when_finished"),
        ),
        sa.CheckConstraint(
            "status = 'planned' OR status = 'cancelled' OR started_at IS NOT NULL",
            name=op.f("ck_encounters_started"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_encounters_ended_after_started")
        ),
        _fk("encounters", "appointment_id", "appointments"),
        _fk("encounters", "created_by", "users"),
        _fk("encounters", "patient_id", "patients"),
        _fk("encounters", "practitioner_id", "practitioners"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_encounters_appointment_id")),
    )
    op.create_index("ix_encounters_patient_id_created_at", "encounters", ["patient_id", "created_at"])
    op.create_index(op.f("ix_encounters_practitioner_id"), "encounters", ["practitioner_id"])

    op.create_table(
        "clinical_notes",
        _id(),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "(signed_at IS NULL) = (signed_by IS NULL)", name=op.f("ck_clinical_notes_signed_with_signer")
        ),
        _fk("clinical_notes", "author_id", "users"),
        _fk("clinical_notes", "encounter_id", "encounters"),
        _fk("clinical_notes", "signed_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_notes")),
    )
    op.create_index(op.f("ix_clinical_notes_encounter_id"), "clinical_notes", ["encounter_id"])

    op.create_table(
        "note_addenda",
        _id(),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("note_addenda", "author_id", "users"),
        _fk("note_addenda", "note_id", "clinical_notes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_addenda")),
    )
    op.create_index(op.f("ix_note_addenda_note_id"), "note_addenda", ["note_id"])

    op.create_table(
        "diagnoses",
        _id(),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("display", sa.String(length=300), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_diagnoses_rank_positive")),
        _fk("diagnoses", "encounter_id", "encounters"),
        _fk("diagnoses", "recorded_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
        sa.UniqueConstraint("encounter_id", "code", name=op.f("uq_diagnoses_encounter_id_code")),
        sa.UniqueConstraint("encounter_id", "rank", name=op.f("uq_diagnoses_encounter_id_rank")),
    )

    op.create_table(
        "prescriptions",
        _id(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("prescriber_id", sa.Uuid(), nullable=False),
        sa.Column("medication_name", sa.String(length=200), nullable=False),
        sa.Column("medication_code", sa.String(length=64), nullable=True),
        sa.Column("dose_quantity", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column(
            "dose_unit",
            _enum("dose_unit", *DOSE_UNITS),
            nullable=False,
        ),
        sa.Column(
            "route",
            _enum("route", *ROUTES),
            nullable=False,
        ),
        sa.Column("frequency_count", sa.Integer(), nullable=False),
        sa.Column("frequency_period", sa.Integer(), nullable=False),
        sa.Column("frequency_period_unit", _enum("period_unit", "h", "d", "wk"), nullable=False),
        sa.Column("as_needed", sa.Boolean(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("instructions", sa.String(length=1000), nullable=True),
        sa.Column(
            "status",
            _enum("prescription_status", "active", "completed", "cancelled", "stopped"),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "status = 'active' OR status_changed_at IS NOT NULL",
            name=op.f("ck_prescriptions_status_change_dated"),
        ),
        sa.CheckConstraint("dose_quantity > 0", name=op.f("ck_prescriptions_dose_positive")),
        sa.CheckConstraint(
            "duration_days IS NULL OR duration_days >= 1", name=op.f("ck_prescriptions_duration_positive")
        ),
        sa.CheckConstraint(
            "frequency_count >= 1 AND frequency_period >= 1", name=op.f("ck_prescriptions_frequency_positive")
        ),
        _fk("prescriptions", "encounter_id", "encounters"),
        _fk("prescriptions", "patient_id", "patients"),
        _fk("prescriptions", "prescriber_id", "practitioners"),
        _fk("prescriptions", "status_changed_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
    )
    op.create_index(op.f("ix_prescriptions_encounter_id"), "prescriptions", ["encounter_id"])
    op.create_index("ix_prescriptions_patient_id_created_at", "prescriptions", ["patient_id", "created_at"])

    op.create_table(
        "recorded_vitals",
        _id(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=True),
        sa.Column("metric_code", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("recorded_vitals", "encounter_id", "encounters"),
        _fk("recorded_vitals", "patient_id", "patients"),
        _fk("recorded_vitals", "recorded_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recorded_vitals")),
    )
    op.create_index(op.f("ix_recorded_vitals_encounter_id"), "recorded_vitals", ["encounter_id"])
    op.create_index(
        "ix_recorded_vitals_patient_id_measured_at", "recorded_vitals", ["patient_id", "measured_at"]
    )

    op.create_table(
        "documents",
        _id(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            _enum("document_kind", *DOCUMENT_KINDS, length=24),
            nullable=False,
        ),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("deleted = (deleted_at IS NOT NULL)", name=op.f("ck_documents_deleted_dated")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_documents_size_positive")),
        _fk("documents", "deleted_by", "users"),
        _fk("documents", "patient_id", "patients"),
        _fk("documents", "uploaded_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_documents_storage_key")),
    )
    op.create_index("ix_documents_patient_id_created_at", "documents", ["patient_id", "created_at"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(SIGNED_NOTE_FUNCTION)
        op.execute(
            "CREATE TRIGGER clinical_notes_signed_immutable BEFORE UPDATE OR DELETE ON clinical_notes "
            "FOR EACH ROW EXECUTE FUNCTION clinical_notes_signed_immutable()"
        )
        op.execute(ADDENDA_FUNCTION)
        op.execute(
            "CREATE TRIGGER note_addenda_append_only BEFORE UPDATE OR DELETE ON note_addenda "
            "FOR EACH ROW EXECUTE FUNCTION note_addenda_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER note_addenda_append_only ON note_addenda")
        op.execute("DROP FUNCTION note_addenda_append_only()")
        op.execute("DROP TRIGGER clinical_notes_signed_immutable ON clinical_notes")
        op.execute("DROP FUNCTION clinical_notes_signed_immutable()")
    op.drop_index("ix_documents_patient_id_created_at", table_name="documents")
    op.drop_table("documents")
    op.drop_index("ix_recorded_vitals_patient_id_measured_at", table_name="recorded_vitals")
    op.drop_index(op.f("ix_recorded_vitals_encounter_id"), table_name="recorded_vitals")
    op.drop_table("recorded_vitals")
    op.drop_index("ix_prescriptions_patient_id_created_at", table_name="prescriptions")
    op.drop_index(op.f("ix_prescriptions_encounter_id"), table_name="prescriptions")
    op.drop_table("prescriptions")
    op.drop_table("diagnoses")
    op.drop_index(op.f("ix_note_addenda_note_id"), table_name="note_addenda")
    op.drop_table("note_addenda")
    op.drop_index(op.f("ix_clinical_notes_encounter_id"), table_name="clinical_notes")
    op.drop_table("clinical_notes")
    op.drop_index(op.f("ix_encounters_practitioner_id"), table_name="encounters")
    op.drop_index("ix_encounters_patient_id_created_at", table_name="encounters")
    op.drop_table("encounters")
