"""smart apps: registered SMART on FHIR apps, their authorisation requests and grants

Revision ID: 0045_smart_apps
Revises: 0021_visit_payments
Create Date: 2026-12-07

`smart_apps` are the OAuth 2 clients an administrator registered (public, confidential or backend
service); `smart_authorizations` follow one authorisation request from `/oauth/authorize` through
the consent page to the code's single exchange; `smart_grants` are what was granted, each with its
current refresh token's hash. Secrets, codes and refresh tokens are kept as SHA-256 hashes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045_smart_apps"
down_revision: str | None = "0041_observation_charting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "smart_apps",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "client_type",
            sa.Enum(
                "public",
                "confidential",
                "backend",
                name="smart_client_type",
                native_enum=False,
                length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("launch_url", sa.String(length=2000), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("jwks_url", sa.String(length=2000), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_apps")),
        sa.UniqueConstraint("client_id", name=op.f("uq_smart_apps_client_id")),
    )
    op.create_table(
        "smart_authorizations",
        sa.Column("app_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "denied",
                "used",
                name="smart_authz_status",
                native_enum=False,
                length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("requested_scope", sa.Text(), nullable=False),
        sa.Column("granted_scope", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("launch_user_id", sa.Uuid(), nullable=True),
        sa.Column("launch_patient_id", sa.Uuid(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["smart_apps.id"],
            name=op.f("fk_smart_authorizations_app_id_smart_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_smart_authorizations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_authorizations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_smart_authorizations_code_hash")),
    )
    op.create_index(op.f("ix_smart_authorizations_app_id"), "smart_authorizations", ["app_id"])
    op.create_table(
        "smart_grants",
        sa.Column("app_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("refresh_hash", sa.String(length=64), nullable=True),
        sa.Column("previous_refresh_hash", sa.String(length=64), nullable=True),
        sa.Column("refresh_expires_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["smart_apps.id"], name=op.f("fk_smart_grants_app_id_smart_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_smart_grants_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_grants")),
        sa.UniqueConstraint("refresh_hash", name=op.f("uq_smart_grants_refresh_hash")),
    )
    op.create_index(op.f("ix_smart_grants_app_id"), "smart_grants", ["app_id"])
    op.create_index(op.f("ix_smart_grants_user_id"), "smart_grants", ["user_id"])
    op.create_index(op.f("ix_smart_grants_previous_refresh_hash"), "smart_grants", ["previous_refresh_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_smart_grants_previous_refresh_hash"), table_name="smart_grants")
    op.drop_index(op.f("ix_smart_grants_user_id"), table_name="smart_grants")
    op.drop_index(op.f("ix_smart_grants_app_id"), table_name="smart_grants")
    op.drop_table("smart_grants")
    op.drop_index(op.f("ix_smart_authorizations_app_id"), table_name="smart_authorizations")
    op.drop_table("smart_authorizations")
    op.drop_table("smart_apps")
