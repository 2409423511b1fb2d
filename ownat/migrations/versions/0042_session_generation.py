"""session generation: a counter per user that ends every access token issued before it was raised

Revision ID: 0042_session_generation
Revises: 0021_visit_payments
Create Date: 2026-12-07

`users.session_generation` is copied into each access token (`gen`); deactivation, a role change,
a password change or reset and "sign out everywhere" raise it, and a token of an older generation
is refused at once (see `core.identity.revocation`). Existing users start at 0, as do the tokens
issued before this revision (a token without `gen` counts as generation 0).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042_session_generation"
down_revision: str | None = "0045_smart_apps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
