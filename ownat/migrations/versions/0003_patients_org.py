"""patients and organisation: patients and their records, departments, practitioners, wards, beds, admissions

Revision ID: 0003_patients_org
Revises: 0002_audit
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_patients_org'
down_revision: str | None = '0002_audit'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Coded values are strings checked by constraints, not native enums: adding a code stays a small change.
GENDERS = ("male", "female", "other", "unknown")
ALLERGY_CATEGORIES = ("food", "medication", "environment", "biologic")
CRITICALITIES = ("low", "high", "unable-to-assess")
ALLERGY_STATUSES = ("active", "inactive", "resolved", "entered-in-error")
CONDITION_STATUSES = ("active", "recurrence", "relapse", "inactive", "remission", "resolved", "entered-in-error")
MEDICATION_STATUSES = ("active", "on-hold", "completed", "stopped", "intended", "entered-in-error")
# A stay occupies [start_at, end_at); NULL end_at is an open upper bound.
STAY_RANGE = "tstzrange(start_at, end_at, '[)')"


def _enum(values: tuple[str, ...], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=length)


def _check(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    # Named as the models' naming convention names it; op.create_table would not.
    return sa.CheckConstraint(f"{column} IN {values!r}", name=op.f(f"ck_{table}_{column}"))


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    op.create_table('patients',
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('mrn', sa.String(length=16), nullable=False),
    sa.Column('mrn_number', sa.BigInteger(), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_name_key', sa.String(length=100), nullable=False),
    sa.Column('family_name_key', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('gender', _enum(GENDERS, 'gender', 16), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address_line1', sa.String(length=200), nullable=True),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('preferred_language', sa.String(length=35), nullable=True),
    sa.Column('emergency_contact_name', sa.String(length=200), nullable=True),
    sa.Column('emergency_contact_relationship', sa.String(length=64), nullable=True),
    sa.Column('emergency_contact_phone', sa.String(length=32), nullable=True),
    sa.Column('deceased', sa.Boolean(), nullable=False),
    sa.Column('deceased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patients_user_id_users'), ondelete='SET NULL'),
    _check('gender', GENDERS, 'patients'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patients_mrn')),
    sa.UniqueConstraint('mrn_number', name=op.f('uq_patients_mrn_number')),
    sa.UniqueConstraint('user_id', name=op.f('uq_patients_user_id'))
    )
    op.create_index('ix_patients_birth_date', 'patients', ['birth_date'], unique=False)
    op.create_index('ix_patients_family_key_given_key', 'patients', ['family_name_key', 'given_name_key'], unique=False, postgresql_ops={'family_name_key': 'text_pattern_ops', 'given_name_key': 'text_pattern_ops'})
    op.create_index('ix_patients_given_key', 'patients', ['given_name_key'], unique=False, postgresql_ops={'given_name_key': 'text_pattern_ops'})
    op.create_table('practitioners',
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('prefix', sa.String(length=32), nullable=True),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('qualifications', sa.JSON(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_practitioners_department_id_departments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_practitioners_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioners')),
    sa.UniqueConstraint('user_id', name=op.f('uq_practitioners_user_id'))
    )
    op.create_index(op.f('ix_practitioners_department_id'), 'practitioners', ['department_id'], unique=False)
    op.create_table('wards',
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_wards_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wards')),
    sa.UniqueConstraint('code', name=op.f('uq_wards_code'))
    )
    op.create_index(op.f('ix_wards_department_id'), 'wards', ['department_id'], unique=False)
    op.create_table('allergies',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('substance_code', sa.String(length=64), nullable=True),
    sa.Column('substance_system', sa.String(length=255), nullable=True),
    sa.Column('substance_text', sa.String(length=200), nullable=False),
    sa.Column('category', _enum(ALLERGY_CATEGORIES, 'category', 16), nullable=True),
    sa.Column('criticality', _enum(CRITICALITIES, 'criticality', 20), nullable=False),
    sa.Column('reaction', sa.Text(), nullable=True),
    sa.Column('status', _enum(ALLERGY_STATUSES, 'status', 20), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_allergies_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_allergies_recorded_by_users'), ondelete='SET NULL'),
    _check('category', ALLERGY_CATEGORIES, 'allergies'),
    _check('criticality', CRITICALITIES, 'allergies'),
    _check('status', ALLERGY_STATUSES, 'allergies'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allergies'))
    )
    op.create_index(op.f('ix_allergies_patient_id'), 'allergies', ['patient_id'], unique=False)
    op.create_table('beds',
    sa.Column('ward_id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ward_id'], ['wards.id'], name=op.f('fk_beds_ward_id_wards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beds')),
    sa.UniqueConstraint('ward_id', 'label', name=op.f('uq_beds_ward_id_label'))
    )
    op.create_index(op.f('ix_beds_ward_id'), 'beds', ['ward_id'], unique=False)
    op.create_table('conditions',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('icd10_code', sa.String(length=8), nullable=False),
    sa.Column('display', sa.String(length=255), nullable=False),
    sa.Column('clinical_status', _enum(CONDITION_STATUSES, 'clinical_status', 20), nullable=False),
    sa.Column('onset_date', sa.Date(), nullable=True),
    sa.Column('abatement_date', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_conditions_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_conditions_recorded_by_users'), ondelete='SET NULL'),
    _check('clinical_status', CONDITION_STATUSES, 'conditions'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conditions'))
    )
    op.create_index(op.f('ix_conditions_icd10_code'), 'conditions', ['icd10_code'], unique=False)
    op.create_index(op.f('ix_conditions_patient_id'), 'conditions', ['patient_id'], unique=False)
    op.create_table('medications',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('code_system', sa.String(length=255), nullable=True),
    sa.Column('dose_text', sa.String(length=200), nullable=True),
    sa.Column('route', sa.String(length=64), nullable=True),
    sa.Column('status', _enum(MEDICATION_STATUSES, 'status', 20), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('stopped_on', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_medications_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_medications_recorded_by_users'), ondelete='SET NULL'),
    _check('status', MEDICATION_STATUSES, 'medications'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medications'))
    )
    op.create_index(op.f('ix_medications_patient_id'), 'medications', ['patient_id'], unique=False)
    op.create_table('patient_identifiers',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('system', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('type_text', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_identifiers_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_identifiers')),
    sa.UniqueConstraint('system', 'value', name=op.f('uq_patient_identifiers_system_value'))
    )
    op.create_index(op.f('ix_patient_identifiers_patient_id'), 'patient_identifiers', ['patient_id'], unique=False)
    op.create_index('ix_patient_identifiers_value', 'patient_identifiers', ['value'], unique=False)
    op.create_table('practitioner_specialties',
    sa.Column('practitioner_id', sa.Uuid(), nullable=False),
    sa.Column('specialty', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_practitioner_specialties_practitioner_id_practitioners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('practitioner_id', 'specialty', name=op.f('pk_practitioner_specialties'))
    )
    op.create_index('ix_practitioner_specialties_specialty', 'practitioner_specialties', ['specialty'], unique=False)
    op.create_table('admissions',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('bed_id', sa.Uuid(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('attending_practitioner_id', sa.Uuid(), nullable=True),
    sa.Column('transferred_from_id', sa.Uuid(), nullable=True),
    sa.Column('admitted_by', sa.Uuid(), nullable=True),
    sa.Column('discharged_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_at IS NULL OR end_at > start_at', name=op.f('ck_admissions_ends_after_start')),
    sa.ForeignKeyConstraint(['admitted_by'], ['users.id'], name=op.f('fk_admissions_admitted_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['attending_practitioner_id'], ['practitioners.id'], name=op.f('fk_admissions_attending_practitioner_id_practitioners'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['bed_id'], ['beds.id'], name=op.f('fk_admissions_bed_id_beds')),
    sa.ForeignKeyConstraint(['discharged_by'], ['users.id'], name=op.f('fk_admissions_discharged_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_admissions_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transferred_from_id'], ['admissions.id'], name=op.f('fk_admissions_transferred_from_id_admissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admissions'))
    )
    op.create_index('ix_admissions_bed_id_start_at', 'admissions', ['bed_id', 'start_at'], unique=False)
    op.create_index('ix_admissions_patient_id_start_at', 'admissions', ['patient_id', 'start_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses a second patient in a bed, or a patient in two beds, at once.
        # btree_gist lets a GiST index compare uuids with =; trusted since PostgreSQL 13.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for column in ("bed_id", "patient_id"):
            name = "bed" if column == "bed_id" else "patient"
            op.execute(
                f"ALTER TABLE admissions ADD CONSTRAINT ex_admissions_{name}_overlap "
                f"EXCLUDE USING gist ({column} WITH =, {STAY_RANGE} WITH &&)"
            )
        # Medical record numbers come from a sequence: gap-tolerant and collision-free under concurrency.
        op.execute("CREATE SEQUENCE patients_mrn_seq START WITH 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # btree_gist stays: other schemas may use it, and it holds no data.
        op.execute("DROP SEQUENCE IF EXISTS patients_mrn_seq")
    op.drop_index('ix_admissions_patient_id_start_at', table_name='admissions')
    op.drop_index('ix_admissions_bed_id_start_at', table_name='admissions')
    op.drop_table('admissions')
    op.drop_index('ix_practitioner_specialties_specialty', table_name='practitioner_specialties')
    op.drop_table('practitioner_specialties')
    op.drop_index('ix_patient_identifiers_value', table_name='patient_identifiers')
    op.drop_index(op.f('ix_patient_identifiers_patient_id'), table_name='patient_identifiers')
    op.drop_table('patient_identifiers')
    op.drop_index(op.f('ix_medications_patient_id'), table_name='medications')
    op.drop_table('medications')
    op.drop_index(op.f('ix_conditions_patient_id'), table_name='conditions')
    op.drop_index(op.f('ix_conditions_icd10_code'), table_name='conditions')
    op.drop_table('conditions')
    op.drop_index(op.f('ix_beds_ward_id'), table_name='beds')
    op.drop_table('beds')
    op.drop_index(op.f('ix_allergies_patient_id'), table_name='allergies')
    op.drop_table('allergies')
    op.drop_index(op.f('ix_wards_department_id'), table_name='wards')
    op.drop_table('wards')
    op.drop_index(op.f('ix_practitioners_department_id'), table_name='practitioners')
    op.drop_table('practitioners')
    op.drop_index('ix_patients_given_key', table_name='patients')
    op.drop_index('ix_patients_family_key_given_key', table_name='patients')
    op.drop_index('ix_patients_birth_date', table_name='patients')
    op.drop_table('patients')
    op.drop_table('departments')
