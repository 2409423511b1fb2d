"""visit and payments: card payments through the gateway's hosted page, prescriptions dated as written

Revision ID: 0021_visit_payments
Revises: 0014_device_coverage
Create Date: 2026-12-07

`billing_payments` keeps the gateway's checkout (its hosted payment page) of a card payment made
there: its id (unique, as the intent id is) and the page's address, to send a retried request back
to the same page. `prescriptions.prescribed_at` is when the prescriber wrote it (FHIR authoredOn),
which a visit charted afterwards dates earlier than the row's `created_at`; existing rows take
their `created_at`, which is what they showed until now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_visit_payments"
down_revision: str | None = "0020_patient_account_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_payments") as batch:
        batch.add_column(sa.Column("gateway_checkout_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("gateway_checkout_url", sa.String(length=2048), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_billing_payments_gateway_checkout_id"), ["gateway_checkout_id"]
        )
    op.add_column("prescriptions", sa.Column("prescribed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE prescriptions SET prescribed_at = created_at")
    with op.batch_alter_table("prescriptions") as batch:
        batch.alter_column("prescribed_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("prescriptions") as batch:
        batch.drop_column("prescribed_at")
    with op.batch_alter_table("billing_payments") as batch:
        batch.drop_constraint(op.f("uq_billing_payments_gateway_checkout_id"), type_="unique")
        batch.drop_column("gateway_checkout_url")
        batch.drop_column("gateway_checkout_id")
