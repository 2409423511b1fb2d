"""lab orders, results and the HL7 inbox

Revision ID: 0006_lab
Revises: 0005_encounters_documents
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_lab'
down_revision: str | None = '0005_encounters_documents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Decimals kept exactly: NUMERIC on PostgreSQL, their text on SQLite (see clinical.lab.models.ExactDecimal).
EXACT_DECIMAL = sa.Numeric().with_variant(sa.String(length=48), "sqlite")


def upgrade() -> None:
    op.create_table('lab_orders',
    sa.Column('placer_order_number', sa.String(length=22), nullable=False),
    sa.Column('filler_order_number', sa.String(length=64), nullable=True),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('encounter_id', sa.Uuid(), nullable=True),
    sa.Column('ordering_practitioner_id', sa.Uuid(), nullable=False),
    sa.Column('ordered_by', sa.Uuid(), nullable=False),
    sa.Column('priority', sa.Enum('routine', 'urgent', 'stat', name='lab_priority', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status', sa.Enum('registered', 'collected', 'in_progress', 'preliminary', 'final', 'corrected', 'cancelled', name='lab_order_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('clinical_note', sa.Text(), nullable=True),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_progress_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('preliminary_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('final_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_lab_orders_cancelled_exactly_when_cancelled')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_lab_orders_encounter_id_encounters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ordered_by'], ['users.id'], name=op.f('fk_lab_orders_ordered_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ordering_practitioner_id'], ['practitioners.id'], name=op.f('fk_lab_orders_ordering_practitioner_id_practitioners'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_lab_orders_patient_id_patients'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lab_orders')),
    sa.UniqueConstraint('placer_order_number', name=op.f('uq_lab_orders_placer_order_number'))
    )
    op.create_index(op.f('ix_lab_orders_encounter_id'), 'lab_orders', ['encounter_id'], unique=False)
    op.create_index(op.f('ix_lab_orders_ordering_practitioner_id'), 'lab_orders', ['ordering_practitioner_id'], unique=False)
    op.create_index('ix_lab_orders_patient_id_created_at', 'lab_orders', ['patient_id', 'created_at'], unique=False)
    op.create_index('ix_lab_orders_status_created_at', 'lab_orders', ['status', 'created_at'], unique=False)
    op.create_table('hl7_messages',
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('received_by', sa.Uuid(), nullable=True),
    sa.Column('control_id', sa.String(length=199), nullable=True),
    sa.Column('sending_application', sa.String(length=255), nullable=True),
    sa.Column('sending_facility', sa.String(length=255), nullable=True),
    sa.Column('message_type', sa.String(length=32), nullable=True),
    sa.Column('version', sa.String(length=16), nullable=True),
    sa.Column('status', sa.Enum('accepted', 'error', 'rejected', 'resolved', 'duplicate', name='hl7_message_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('ack_code', sa.String(length=2), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('patient_identifier', sa.String(length=64), nullable=True),
    sa.Column('patient_name', sa.String(length=200), nullable=True),
    sa.Column('placer_order_number', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('duplicate_of_id', sa.Uuid(), nullable=True),
    sa.Column('resolution', sa.Enum('reprocessed', 'dismissed', 'retransmitted', name='hl7_resolution', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.Uuid(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['hl7_messages.id'], name=op.f('fk_hl7_messages_duplicate_of_id_hl7_messages'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['lab_orders.id'], name=op.f('fk_hl7_messages_order_id_lab_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_hl7_messages_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['received_by'], ['users.id'], name=op.f('fk_hl7_messages_received_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_hl7_messages_resolved_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hl7_messages'))
    )
    op.create_index(op.f('ix_hl7_messages_order_id'), 'hl7_messages', ['order_id'], unique=False)
    op.create_index(op.f('ix_hl7_messages_patient_id'), 'hl7_messages', ['patient_id'], unique=False)
    op.create_index('ix_hl7_messages_sender_control_id', 'hl7_messages', ['sending_application', 'sending_facility', 'control_id'], unique=False)
    op.create_index('ix_hl7_messages_status_received_at', 'hl7_messages', ['status', 'received_at'], unique=False)
    op.create_table('lab_order_items',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('loinc_code', sa.String(length=16), nullable=False),
    sa.Column('display', sa.String(length=255), nullable=False),
    sa.Column('specimen', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['lab_orders.id'], name=op.f('fk_lab_order_items_order_id_lab_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lab_order_items')),
    sa.UniqueConstraint('order_id', 'loinc_code', name=op.f('uq_lab_order_items_order_id_loinc_code'))
    )
    op.create_table('lab_results',
    sa.Column('order_item_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('loinc_code', sa.String(length=16), nullable=False),
    sa.Column('value_type', sa.Enum('NM', 'SN', 'ST', 'TX', 'FT', 'CWE', name='lab_value_type', native_enum=False, create_constraint=True, length=4), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('value_numeric', EXACT_DECIMAL, nullable=True),
    sa.Column('comparator', sa.String(length=2), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('reference_low', EXACT_DECIMAL, nullable=True),
    sa.Column('reference_high', EXACT_DECIMAL, nullable=True),
    sa.Column('reference_text', sa.String(length=64), nullable=True),
    sa.Column('abnormal_flag', sa.Enum('L', 'H', 'LL', 'HH', 'LU', 'HU', '<', '>', 'N', 'A', 'AA', 'U', 'D', 'B', 'W', 'S', 'R', 'I', 'MS', 'VS', 'NEG', 'POS', 'IND', 'DET', 'ND', 'AC', 'NR', 'RR', 'QCF', 'TOX', 'CAR', 'SYN-R', 'SYN-S', name='abnormal_flag', native_enum=False, create_constraint=True, length=8), nullable=True),
    sa.Column('status', sa.Enum('preliminary', 'final', 'corrected', name='lab_result_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_message_id', sa.Uuid(), nullable=True),
    sa.Column('entered_by', sa.Uuid(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by'], ['users.id'], name=op.f('fk_lab_results_entered_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['lab_orders.id'], name=op.f('fk_lab_results_order_id_lab_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_item_id'], ['lab_order_items.id'], name=op.f('fk_lab_results_order_item_id_lab_order_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_lab_results_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['source_message_id'], ['hl7_messages.id'], name=op.f('fk_lab_results_source_message_id_hl7_messages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lab_results'))
    )
    op.create_index('ix_lab_results_order_id_created_at', 'lab_results', ['order_id', 'created_at'], unique=False)
    op.create_index('ix_lab_results_patient_id_loinc_code_observed_at', 'lab_results', ['patient_id', 'loinc_code', 'observed_at'], unique=False)
    op.create_index(op.f('ix_lab_results_source_message_id'), 'lab_results', ['source_message_id'], unique=False)
    # One current (not superseded) result per ordered test, on both dialects.
    op.create_index('uq_lab_results_current_per_item', 'lab_results', ['order_item_id'], unique=True, postgresql_where=sa.text('superseded_at IS NULL'), sqlite_where=sa.text('superseded_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_lab_results_current_per_item', table_name='lab_results', postgresql_where=sa.text('superseded_at IS NULL'), sqlite_where=sa.text('superseded_at IS NULL'))
    op.drop_index(op.f('ix_lab_results_source_message_id'), table_name='lab_results')
    op.drop_index('ix_lab_results_patient_id_loinc_code_observed_at', table_name='lab_results')
    op.drop_index('ix_lab_results_order_id_created_at', table_name='lab_results')
    op.drop_table('lab_results')
    op.drop_table('lab_order_items')
    op.drop_index('ix_hl7_messages_status_received_at', table_name='hl7_messages')
    op.drop_index('ix_hl7_messages_sender_control_id', table_name='hl7_messages')
    op.drop_index(op.f('ix_hl7_messages_patient_id'), table_name='hl7_messages')
    op.drop_index(op.f('ix_hl7_messages_order_id'), table_name='hl7_messages')
    op.drop_table('hl7_messages')
    op.drop_index('ix_lab_orders_status_created_at', table_name='lab_orders')
    op.drop_index('ix_lab_orders_patient_id_created_at', table_name='lab_orders')
    op.drop_index(op.f('ix_lab_orders_ordering_practitioner_id'), table_name='lab_orders')
    op.drop_index(op.f('ix_lab_orders_encounter_id'), table_name='lab_orders')
    op.drop_table('lab_orders')
