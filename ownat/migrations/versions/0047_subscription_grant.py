"""subscription grant: the SMART grant of an app-owned FHIR subscription

Revision ID: 0047_subscription_grant
Revises: 0046_subscriptions_bulk
Create Date: 2026-12-08

A subscription a SMART app creates keeps the app's grant (its id, client id, scopes and launch
patient) so that every event is filtered by those scopes when it is delivered, and the subscription
ends when the grant does (revoked, the app suspended, lapsed or narrowed). Subscriptions created
with Ownat's own tokens leave the columns empty and read with their owner's role, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0047_subscription_grant"
down_revision: str | None = "0046_subscriptions_bulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns only: SQLite adds them in place, existing rows are Ownat-owned.
    with op.batch_alter_table("fhir_subscriptions") as batch:
        batch.add_column(sa.Column("grant_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("grant_client_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("grant_scope", sa.Text(), nullable=True))
        batch.add_column(sa.Column("grant_patient_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fhir_subscriptions") as batch:
        batch.drop_column("grant_patient_id")
        batch.drop_column("grant_scope")
        batch.drop_column("grant_client_id")
        batch.drop_column("grant_id")
